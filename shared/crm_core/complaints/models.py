"""Complaint and feedback table (客户投诉与反馈表): what a customer reported and how it was
handled (domain.md §6)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
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

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class ComplaintKind(enum.StrEnum):
    complaint = "complaint"
    suggestion = "suggestion"
    praise = "praise"
    inquiry = "inquiry"


class ComplaintSeverity(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class ComplaintStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


# The workflow, in one place: open → in_progress → resolved → closed; resolved → in_progress
# reopens; closed is final.
TRANSITIONS: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.open: frozenset({ComplaintStatus.in_progress}),
    ComplaintStatus.in_progress: frozenset({ComplaintStatus.resolved}),
    ComplaintStatus.resolved: frozenset({ComplaintStatus.closed, ComplaintStatus.in_progress}),
    ComplaintStatus.closed: frozenset(),
}
SETTLED = frozenset({ComplaintStatus.resolved, ComplaintStatus.closed})
UNSETTLED = tuple(s.value for s in ComplaintStatus if s not in SETTLED)


class Complaint(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "complaints"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # Who complained; destroying the contact keeps the complaint.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    kind: Mapped[ComplaintKind] = mapped_column(
        str_enum(ComplaintKind, "complaint_kind"), nullable=False
    )
    description: Mapped[str] = mapped_column(Text, nullable=False)
    product_or_service: Mapped[str | None] = mapped_column(String(200))
    customer_expectation: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[ComplaintSeverity] = mapped_column(
        str_enum(ComplaintSeverity, "complaint_severity"), nullable=False
    )
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus, "complaint_status"),
        nullable=False,
        default=ComplaintStatus.open,
    )
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sla_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    measures: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # The service checks these with field errors; the database holds them whatever the writer.
        CheckConstraint(
            "(status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL)",
            name="resolved_at_matches_status",
        ),
        CheckConstraint(
            "satisfaction IS NULL OR (satisfaction BETWEEN 1 AND 5"
            " AND status IN ('resolved', 'closed'))",
            name="satisfaction_when_settled",
        ),
        CheckConstraint("sla_due_at >= received_at", name="sla_not_before_received"),
        # A customer's complaints (Customer.complaints, filters on customerId).
        Index("ix_complaints_customer_id_received_at", "customer_id", "received_at", "id"),
        # The default list order, and "created" orderings.
        Index("ix_complaints_received_at_id", "received_at", "id"),
        Index("ix_complaints_created_at_id", "created_at", "id"),
        Index("ix_complaints_sla_due_at_id", "sla_due_at", "id"),
        Index("ix_complaints_contact_id", "contact_id"),
        # "My complaints" lists.
        Index("ix_complaints_assignee_id_received_at", "assignee_id", "received_at"),
        # What an SLA watch scans: live complaints not yet settled, by due time.
        Index(
            "ix_complaints_open_sla_due",
            "sla_due_at",
            postgresql_where=column("status").in_(UNSETTLED) & column("deleted_at").is_(None),
        ),
        Index(
            "ix_complaints_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
