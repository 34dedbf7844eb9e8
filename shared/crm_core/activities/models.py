"""Activities and events (客户活动表): meetings, exhibitions, webinars… held by the company, and
which customers and contacts were invited to or attended them. Activities belong to the tenant
(not to one customer); their owner is a member, as a customer's owner."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class ActivityKind(enum.StrEnum):
    meeting = "meeting"
    exhibition = "exhibition"
    webinar = "webinar"
    training = "training"
    promotion = "promotion"
    other = "other"


class ActivityStatus(enum.StrEnum):
    planned = "planned"
    done = "done"
    cancelled = "cancelled"


# planned → done | cancelled; both are final.
TRANSITIONS: dict[ActivityStatus, frozenset[ActivityStatus]] = {
    ActivityStatus.planned: frozenset({ActivityStatus.done, ActivityStatus.cancelled}),
    ActivityStatus.done: frozenset(),
    ActivityStatus.cancelled: frozenset(),
}


class AttendeeStatus(enum.StrEnum):
    invited = "invited"
    registered = "registered"
    attended = "attended"
    absent = "absent"
    cancelled = "cancelled"


# Who holds a seat against the capacity: a cancelled or absent attendee frees theirs.
SEATED = frozenset({AttendeeStatus.invited, AttendeeStatus.registered, AttendeeStatus.attended})
SEATED_VALUES = tuple(sorted(s.value for s in SEATED))


class Activity(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "activities"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[ActivityKind] = mapped_column(
        str_enum(ActivityKind, "activity_kind"), nullable=False
    )
    status: Mapped[ActivityStatus] = mapped_column(
        str_enum(ActivityStatus, "activity_status"),
        nullable=False,
        default=ActivityStatus.planned,
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    location: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    # Seats; null is unlimited.
    capacity: Mapped[int | None] = mapped_column(Integer)
    # A member of the tenant (core.users; no foreign key across schemas); null is the shared pool.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # The service checks these with field errors; the database holds them whatever the writer.
        CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="ends_not_before_starts"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        # The default list order (latest first) and startsAt ranges ("events this month").
        Index("ix_activities_starts_at_id", "starts_at", "id"),
        Index("ix_activities_created_at_id", "created_at", "id"),
        # Data scope (owner) and "my events".
        Index("ix_activities_owner_id_starts_at", "owner_id", "starts_at"),
        Index(
            "ix_activities_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class ActivityAttendee(IdMixin, AuditedMixin, TenantBase):
    """A customer (and, optionally, one of its contacts) at an activity. Removing an attendee
    deletes the row (audited): attendance has no life of its own to restore."""

    __tablename__ = "activity_attendees"

    activity_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # CASCADE, not SET NULL: a contact's attendance nulled could collide with the customer's own
    # row under the unique key below, and would make a destroy of the contact fail.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="CASCADE")
    )
    status: Mapped[AttendeeStatus] = mapped_column(
        str_enum(AttendeeStatus, "attendee_status"),
        nullable=False,
        default=AttendeeStatus.invited,
    )
    note: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        # One row per person (or per customer, without a contact) and activity; NULLS NOT
        # DISTINCT so the customer-only row is unique too. Also Activity.attendees' lookup.
        Index(
            "uq_activity_attendees_activity_customer_contact",
            "activity_id",
            "customer_id",
            "contact_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        # Customer.activities (what a customer attended).
        Index("ix_activity_attendees_customer_id", "customer_id"),
        Index("ix_activity_attendees_contact_id", "contact_id"),
    )
