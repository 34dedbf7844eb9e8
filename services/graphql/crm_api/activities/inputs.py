"""Activity and attendee inputs."""

from __future__ import annotations

import datetime
import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import DateTimeFilter, IDFilter, StringFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "Activity", "owner_id": "User"}
ATTENDEE_ID_FIELDS = {"customer_id": "Customer", "contact_id": "Contact"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class ActivityFilter:
    and_: list[ActivityFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ActivityFilter] | None = strawberry.field(name="or", default=None)
    not_: ActivityFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    owner_id: IDFilter | None = None
    name: StringFilter | None = None
    kind: enum_filter(E.ActivityKindEnum) | None = None  # type: ignore[valid-type]
    status: enum_filter(E.ActivityStatusEnum) | None = None  # type: ignore[valid-type]
    location: StringFilter | None = None
    starts_at: DateTimeFilter | None = None
    ends_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class ActivityOrderField(enum.Enum):
    STARTS_AT = "starts_at"
    ENDS_AT = "ends_at"
    NAME = "name"
    LOCATION = "location"
    CAPACITY = "capacity"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ActivityOrderBy:
    field: ActivityOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class ActivityFieldsInput:
    ends_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="Not before `startsAt`."
    )
    location: str | None = UNSET
    online_url: str | None = strawberry.field(default=UNSET, description="http(s) link.")
    description: str | None = UNSET
    capacity: int | None = strawberry.field(
        default=UNSET, description="Seats (> 0); null is unlimited."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who organises it: you, when left out on create."
    )


@strawberry.input
class CreateActivityInput(ActivityFieldsInput):
    name: str
    kind: E.ActivityKindEnum
    starts_at: datetime.datetime


@strawberry.input
class UpdateActivityInput(ActivityFieldsInput):
    name: str | None = UNSET
    kind: E.ActivityKindEnum | None = UNSET
    starts_at: datetime.datetime | None = UNSET
    status: E.ActivityStatusEnum | None = strawberry.field(
        default=UNSET, description="PLANNED → DONE | CANCELLED only."
    )


@strawberry.input(description="A customer (optionally one of its contacts) to put on the list.")
class AddActivityAttendeeInput:
    customer_id: strawberry.ID
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contact of that customer."
    )
    status: E.AttendeeStatusEnum | None = strawberry.field(
        default=UNSET, description="INVITED when left out."
    )
    note: str | None = UNSET


@strawberry.input
class UpdateActivityAttendeeInput:
    status: E.AttendeeStatusEnum | None = UNSET
    note: str | None = UNSET
