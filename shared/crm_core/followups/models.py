"""Follow-up table (客户跟进记录表): scheduled and done follow-ups on a customer (domain.md §5).

The link to a need or an opportunity (a nullable kind/id pair) comes with those tables."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Text, Uuid, column
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class FollowUpStatus(enum.StrEnum):
    planned = "planned"
    done = "done"
    cancelled = "cancelled"


class FollowUp(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "follow_ups"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    remind_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[FollowUpStatus] = mapped_column(
        str_enum(FollowUpStatus, "follow_up_status"),
        nullable=False,
        default=FollowUpStatus.planned,
    )
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    content: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    customer_feedback: Mapped[str | None] = mapped_column(Text)
    next_follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # The service checks these with field errors; the database holds them whatever the writer.
        CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name="done_at_matches_status"),
        CheckConstraint(
            "remind_at IS NULL OR remind_at <= scheduled_at", name="remind_not_after_scheduled"
        ),
        # A customer's follow-ups (Customer.followUps, filters on customerId).
        Index("ix_follow_ups_customer_id_scheduled_at", "customer_id", "scheduled_at", "id"),
        # The default list order, and "my follow-ups" lists.
        Index("ix_follow_ups_scheduled_at_id", "scheduled_at", "id"),
        Index("ix_follow_ups_created_at_id", "created_at", "id"),
        Index("ix_follow_ups_owner_id_scheduled_at", "owner_id", "scheduled_at"),
        # What the reminder job scans: planned, live, with a reminder time.
        Index(
            "ix_follow_ups_due_reminders",
            "remind_at",
            postgresql_where=(column("status") == "planned") & column("deleted_at").is_(None),
        ),
        Index(
            "ix_follow_ups_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
