"""After-sales service table (售后服务记录表): a customer's request for service and its handling
(domain.md §9)."""

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


class TicketPriority(enum.StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TicketStatus(enum.StrEnum):
    new = "new"
    assigned = "assigned"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


# The workflow, in one place: new → assigned → in_progress → resolved → closed; resolved →
# in_progress reopens; closed is final.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.new: frozenset({TicketStatus.assigned}),
    TicketStatus.assigned: frozenset({TicketStatus.in_progress}),
    TicketStatus.in_progress: frozenset({TicketStatus.resolved}),
    TicketStatus.resolved: frozenset({TicketStatus.closed, TicketStatus.in_progress}),
    TicketStatus.closed: frozenset(),
}
SETTLED = frozenset({TicketStatus.resolved, TicketStatus.closed})
UNSETTLED = tuple(s.value for s in TicketStatus if s not in SETTLED)


class ServiceTicket(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "service_tickets"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # Who asked for service; destroying the contact keeps the ticket.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    problem: Mapped[str] = mapped_column(Text, nullable=False)
    product: Mapped[str | None] = mapped_column(String(200))
    expectation: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[TicketPriority] = mapped_column(
        str_enum(TicketPriority, "ticket_priority"), nullable=False
    )
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[TicketStatus] = mapped_column(
        str_enum(TicketStatus, "ticket_status"), nullable=False, default=TicketStatus.new
    )
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    measures: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
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
        CheckConstraint("status = 'new' OR assignee_id IS NOT NULL", name="assigned_past_new"),
        # A customer's tickets (Customer.serviceTickets, filters on customerId).
        Index("ix_service_tickets_customer_id_requested_at", "customer_id", "requested_at", "id"),
        # The default list order, and "created" orderings.
        Index("ix_service_tickets_requested_at_id", "requested_at", "id"),
        Index("ix_service_tickets_created_at_id", "created_at", "id"),
        Index("ix_service_tickets_contact_id", "contact_id"),
        # "My tickets" lists.
        Index("ix_service_tickets_assignee_id_requested_at", "assignee_id", "requested_at"),
        # The service desk's queue: live tickets not yet settled.
        Index(
            "ix_service_tickets_open_requested_at",
            "requested_at",
            postgresql_where=column("status").in_(UNSETTLED) & column("deleted_at").is_(None),
        ),
        Index(
            "ix_service_tickets_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
