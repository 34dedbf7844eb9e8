"""Requirement analysis table (客户需求分析表): a customer's need (product features, service
content, delivery time), its priority, analysis, proposed solution, implementation status and
effect (domain.md §4)."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class RequirementPriority(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class RequirementStatus(enum.StrEnum):
    proposed = "proposed"
    accepted = "accepted"
    in_progress = "in_progress"
    implemented = "implemented"
    rejected = "rejected"


# The workflow, in one place: a proposed solution is accepted (or rejected), worked on, then
# implemented; a rejected one can be proposed again, an implemented one reopened.
S = RequirementStatus
TRANSITIONS: dict[RequirementStatus, frozenset[RequirementStatus]] = {
    S.proposed: frozenset({S.accepted, S.rejected}),
    S.accepted: frozenset({S.in_progress, S.rejected, S.proposed}),
    S.in_progress: frozenset({S.implemented, S.rejected}),
    S.implemented: frozenset({S.in_progress}),
    S.rejected: frozenset({S.proposed}),
}


class RequirementAnalysis(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "requirement_analyses"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # Who expressed the need; destroying the contact keeps the analysis.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    # The need in a sentence or two.
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    product_features: Mapped[str | None] = mapped_column(Text)
    service_content: Mapped[str | None] = mapped_column(Text)
    desired_delivery_on: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[RequirementPriority] = mapped_column(
        str_enum(RequirementPriority, "requirement_priority"),
        nullable=False,
        default=RequirementPriority.medium,
    )
    analysis: Mapped[str | None] = mapped_column(Text)
    proposed_solution: Mapped[str | None] = mapped_column(Text)
    implementation_status: Mapped[RequirementStatus] = mapped_column(
        str_enum(RequirementStatus, "requirement_status"),
        nullable=False,
        default=RequirementStatus.proposed,
    )
    effect: Mapped[str | None] = mapped_column(Text)
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # A customer's analyses (Customer.requirementAnalyses, filters on customerId).
        Index("ix_requirement_analyses_customer_id_created_at", "customer_id", "created_at", "id"),
        # The default list order.
        Index("ix_requirement_analyses_created_at_id", "created_at", "id"),
        Index("ix_requirement_analyses_contact_id", "contact_id"),
        # "My analyses" lists.
        Index("ix_requirement_analyses_owner_id", "owner_id"),
        Index(
            "ix_requirement_analyses_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
