"""Lead table (潜在客户表): a prospective customer with contact data, source, interests, status and
score, until it is converted into a customer and its primary contact (domain.md, further tables)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Uuid,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.customers.models import CustomerSource
from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class LeadStatus(enum.StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    unqualified = "unqualified"
    converted = "converted"


# The workflow, in one place: new → contacted → qualified | unqualified; unqualified → contacted
# reopens; qualified → converted only through the conversion (which creates the customer);
# converted is final.
TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.new: frozenset({LeadStatus.contacted}),
    LeadStatus.contacted: frozenset({LeadStatus.qualified, LeadStatus.unqualified}),
    LeadStatus.qualified: frozenset({LeadStatus.converted}),
    LeadStatus.unqualified: frozenset({LeadStatus.contacted}),
    LeadStatus.converted: frozenset(),
}


class Lead(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "leads"

    name: Mapped[str] = mapped_column(String(120), nullable=False)  # the person
    company_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(120))  # 职位
    # As on customers: E.164, with the text as typed beside it.
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_raw: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    # The customers' source vocabulary: a converted lead hands its source to the customer.
    source: Mapped[CustomerSource | None] = mapped_column(str_enum(CustomerSource, "lead_source"))
    # Products or services the prospect asked about; become the customer's preferred products.
    interests: Mapped[list[str]] = mapped_column(ARRAY(String(100)), nullable=False, default=list)
    status: Mapped[LeadStatus] = mapped_column(
        str_enum(LeadStatus, "lead_status"), nullable=False, default=LeadStatus.new
    )
    score: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    # A member of the tenant (no foreign key across schemas, as customers.owner_id); the data
    # scope (own/team/all) applies through it.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    notes: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(String(60))
    city: Mapped[str | None] = mapped_column(String(60))
    # What the conversion made; destroying them later keeps the lead (and its converted status).
    converted_customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="SET NULL")
    )
    converted_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Kept by the service on every write, as on customers: names with their pinyin, phone digits,
    # e-mail; and the same without personal data for roles that see it masked.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    search_public: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint(
            "(status = 'converted') = (converted_at IS NOT NULL)",
            name="converted_at_matches_status",
        ),
        # The default list order, and "created" orderings.
        Index("ix_leads_created_at_id", "created_at", "id"),
        # "My leads" lists and the own/team data scope.
        Index("ix_leads_owner_id_created_at", "owner_id", "created_at"),
        # Work queues by status ("qualified leads to convert").
        Index("ix_leads_status_created_at", "status", "created_at"),
        # Ordering by score ("hottest leads first").
        Index("ix_leads_score_id", "score", "id"),
        # Duplicate checks by phone or e-mail.
        Index("ix_leads_phone", "phone"),
        Index("ix_leads_email", "email"),
        # The foreign keys (SET NULL on destroy scans these).
        Index("ix_leads_converted_customer_id", "converted_customer_id"),
        Index("ix_leads_converted_contact_id", "converted_contact_id"),
        Index(
            "ix_leads_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index(
            "ix_leads_search_public_trgm",
            "search_public",
            postgresql_using="gin",
            postgresql_ops={"search_public": "gin_trgm_ops"},
        ),
        # The default list over live rows.
        Index(
            "ix_leads_live_created_at_id",
            "created_at",
            "id",
            postgresql_where=column("deleted_at").is_(None),
        ),
    )
