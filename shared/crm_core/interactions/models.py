"""Contact-record table (客户联系记录表): each contact with a customer (domain.md §3)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class InteractionChannel(enum.StrEnum):
    phone = "phone"
    email = "email"
    meeting = "meeting"
    visit = "visit"
    chat = "chat"
    other = "other"


class Interaction(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "interactions"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # The person spoken to; destroying the contact keeps the record of the conversation.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    channel: Mapped[InteractionChannel] = mapped_column(
        str_enum(InteractionChannel, "interaction_channel"), nullable=False
    )
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    staff_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    subject: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    next_contact_on: Mapped[date | None] = mapped_column(Date)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # A customer's timeline (Customer.interactions, filters on customerId).
        Index("ix_interactions_customer_id_occurred_at", "customer_id", "occurred_at", "id"),
        # The default list order, and "created" orderings.
        Index("ix_interactions_occurred_at_id", "occurred_at", "id"),
        Index("ix_interactions_created_at_id", "created_at", "id"),
        Index("ix_interactions_contact_id", "contact_id"),
        Index("ix_interactions_staff_user_id_occurred_at", "staff_user_id", "occurred_at"),
        # "Who is due for contact": the upcoming-contacts list and a reminder job later.
        Index("ix_interactions_next_contact_on", "next_contact_on"),
        Index(
            "ix_interactions_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
