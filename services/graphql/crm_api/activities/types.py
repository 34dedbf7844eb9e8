"""The Activity and ActivityAttendee types (客户活动: meetings, exhibitions, webinars…)."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import contact_of, customer_of, related_size, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.activities.models import Activity as M
from crm_core.activities.models import ActivityAttendee as A

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer


FIELDS: dict[str, Col] = {
    "name": Col(M.name, sortable=True),
    "kind": Col(M.kind, E.ActivityKindEnum),
    "status": Col(M.status, E.ActivityStatusEnum),
    "starts_at": Col(M.starts_at, sortable=True),
    "ends_at": Col(M.ends_at, sortable=True),
    "location": Col(M.location, sortable=True),
    "online_url": Col(M.online_url, filterable=False),
    "description": Col(M.description, filterable=False),
    "capacity": Col(M.capacity, sortable=True),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {"id": Col(M.id, sortable=True), "owner_id": Col(M.owner_id)}
ATTENDEE_FIELDS: dict[str, Col] = {
    "status": Col(A.status, E.AttendeeStatusEnum),
    "note": Col(A.note),
    "version": Col(A.version),
    "created_at": Col(A.created_at),
    "updated_at": Col(A.updated_at),
}


@strawberry.type(
    description="A customer, or one of its contacts, on an activity's list (invited, "
    "registered, attended…)."
)
class ActivityAttendee(Node):
    status: E.AttendeeStatusEnum
    note: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    _activity_id: strawberry.Private[uuid.UUID]
    _customer_id: strawberry.Private[uuid.UUID]
    _contact_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: A) -> ActivityAttendee:
        return cls(
            id=strawberry.ID(to_global_id("ActivityAttendee", row.id)),
            _activity_id=row.activity_id,
            _customer_id=row.customer_id,
            _contact_id=row.contact_id,
            **read_fields(row, ATTENDEE_FIELDS),
        )

    @strawberry.field(description="The activity.")
    async def activity(self, info: Info) -> Activity | None:
        row = await info.context.loaders.activity_by_id.load(self._activity_id)
        return Activity.from_model(row) if row is not None else None

    @strawberry.field(description="The customer attending.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(
        description="The person attending, if named.", extensions=requires("contact:read")
    )
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)


@strawberry.type(
    description="A company event (客户活动): a meeting, exhibition, webinar, training or "
    "promotion, and the customers on its list."
)
class Activity(Node):
    name: str
    kind: E.ActivityKindEnum
    status: E.ActivityStatusEnum
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None = strawberry.field(description="Not before `startsAt`.")
    location: str | None
    online_url: str | None
    description: str | None
    capacity: int | None = strawberry.field(description="Seats; null is unlimited.")
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _pk: strawberry.Private[uuid.UUID]
    _owner_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M) -> Activity:
        return cls(
            id=strawberry.ID(to_global_id("Activity", row.id)),
            _pk=row.id,
            _owner_id=row.owner_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(description="Who organises it.")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)

    @strawberry.field(
        description="Attendees whose customer is in your data scope, in the order they were added.",
    )
    async def attendees(self, info: Info, first: int = 20) -> list[ActivityAttendee]:
        key = (self._pk, related_size(first))
        rows = await info.context.loaders.attendees_by_activity_id.load(key)
        return [ActivityAttendee.from_model(r) for r in rows]

    @strawberry.field(
        description="Seats taken (invited, registered or attended), whoever's customers they "
        "are: what counts against `capacity`."
    )
    async def attendee_count(self, info: Info) -> int:
        count: int = await info.context.loaders.attendee_count_by_activity_id.load(self._pk)
        return count
