"""Follow-up inputs."""

from __future__ import annotations

import datetime
import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import DateTimeFilter, IDFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "FollowUp", "customer_id": "Customer", "owner_id": "User"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class FollowUpFilter:
    and_: list[FollowUpFilter] | None = strawberry.field(name="and", default=None)
    or_: list[FollowUpFilter] | None = strawberry.field(name="or", default=None)
    not_: FollowUpFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    owner_id: IDFilter | None = None
    status: enum_filter(E.FollowUpStatusEnum) | None = None  # type: ignore[valid-type]
    scheduled_at: DateTimeFilter | None = None
    remind_at: DateTimeFilter | None = None
    done_at: DateTimeFilter | None = None
    next_follow_up_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class FollowUpOrderField(enum.Enum):
    SCHEDULED_AT = "scheduled_at"
    REMIND_AT = "remind_at"
    DONE_AT = "done_at"
    NEXT_FOLLOW_UP_AT = "next_follow_up_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class FollowUpOrderBy:
    field: FollowUpOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class FollowUpFieldsInput:
    owner_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who follows up; you, when left out on create."
    )
    remind_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="When to remind the owner; not after `scheduledAt`."
    )
    done_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="Required when the status is DONE; refused otherwise."
    )
    content: str | None = UNSET
    result: str | None = UNSET
    customer_feedback: str | None = UNSET
    next_follow_up_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="After `doneAt` when both are set."
    )


@strawberry.input
class CreateFollowUpInput(FollowUpFieldsInput):
    scheduled_at: datetime.datetime
    status: E.FollowUpStatusEnum | None = UNSET


@strawberry.input
class UpdateFollowUpInput(FollowUpFieldsInput):
    scheduled_at: datetime.datetime | None = UNSET
    status: E.FollowUpStatusEnum | None = UNSET
