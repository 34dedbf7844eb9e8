"""Sales opportunities (销售机会表, domain.md §7): the deal, its products, the funnel stage with
its probability, and every stage change (for the funnel report: conversion between stages)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    Uuid,
    column,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum
from crm_core.products.models import Money

STAGE_KEY_LENGTH = 40


class OpportunityOutcome(enum.StrEnum):
    # Contracts and orders read these values (migration 0007): keep them.
    open = "open"
    won = "won"
    lost = "lost"


class Opportunity(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "opportunities"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # The analysed need it answers; destroying the analysis keeps the opportunity.
    requirement_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("requirement_analyses.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    customer_need: Mapped[str | None] = mapped_column(Text)
    # Null while nobody can say yet.
    expected_amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    # A key of the company's funnel (tenant settings "opportunity_funnel"), so not an enum.
    stage: Mapped[str] = mapped_column(String(STAGE_KEY_LENGTH), nullable=False)
    probability: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    source: Mapped[str | None] = mapped_column(String(100))
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    progress: Mapped[str | None] = mapped_column(Text)
    # Follows the stage: the funnel's won/lost stages close the opportunity.
    outcome: Mapped[OpportunityOutcome] = mapped_column(
        str_enum(OpportunityOutcome, "opportunity_outcome"),
        nullable=False,
        default=OpportunityOutcome.open,
    )
    won_reason: Mapped[str | None] = mapped_column(Text)
    lost_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        CheckConstraint(
            "expected_amount IS NULL OR expected_amount >= 0", name="expected_amount_not_negative"
        ),
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_percent"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint(
            "(outcome = 'open') = (closed_at IS NULL)", name="closed_at_matches_outcome"
        ),
        # A customer's opportunities (Customer.opportunities, filters on customerId).
        Index("ix_opportunities_customer_id_created_at", "customer_id", "created_at", "id"),
        # The default list order, and the expected-close orderings.
        Index("ix_opportunities_created_at_id", "created_at", "id"),
        Index("ix_opportunities_expected_close_on_id", "expected_close_on", "id"),
        # "My pipeline".
        Index("ix_opportunities_owner_id_expected_close_on", "owner_id", "expected_close_on"),
        Index("ix_opportunities_requirement_id", "requirement_id"),
        # The funnel report: live open opportunities by stage; and the check that a stage is
        # unused before a funnel drops it.
        Index(
            "ix_opportunities_open_stage",
            "stage",
            postgresql_where=(column("outcome") == "open") & column("deleted_at").is_(None),
        ),
        Index(
            "ix_opportunities_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class OpportunityProduct(IdMixin, TenantBase):
    """A line: which product, how many, at what price. Written as a whole list with the
    opportunity (its audit entry carries them), so the lines carry no audit columns."""

    __tablename__ = "opportunity_products"

    opportunity_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False
    )
    # RESTRICT: a product that was ever offered is retired by soft delete, never destroyed.
    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("products.id", ondelete="RESTRICT"), nullable=False
    )
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money, nullable=False)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        # Opportunity.products (one statement for a page of opportunities).
        Index("ix_opportunity_products_opportunity_id_position", "opportunity_id", "position"),
        # The RESTRICT check on destroying a product, and sales per product.
        Index("ix_opportunity_products_product_id", "product_id"),
    )


class OpportunityStageHistory(IdMixin, TenantBase):
    """One row per stage an opportunity entered (the first on create), written in the same
    transaction as the change; never edited. The funnel report reads it for conversions."""

    __tablename__ = "opportunity_stage_history"

    opportunity_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False
    )
    from_stage: Mapped[str | None] = mapped_column(String(STAGE_KEY_LENGTH))
    to_stage: Mapped[str] = mapped_column(String(STAGE_KEY_LENGTH), nullable=False)
    probability: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    expected_amount: Mapped[Decimal | None] = mapped_column(Money)
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    changed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        # Opportunity.stageHistory, in order.
        Index(
            "ix_opportunity_stage_history_opportunity_id_changed_at",
            "opportunity_id",
            "changed_at",
            "id",
        ),
        # Reports over a period.
        Index("ix_opportunity_stage_history_changed_at", "changed_at"),
    )
