"""Segment inputs."""

from __future__ import annotations

import enum

import strawberry
from strawberry import UNSET

from crm_api.customers.inputs import CustomerFilter
from crm_api.filters import BooleanFilter, DateTimeFilter, IDFilter, StringFilter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "Segment", "owner_id": "User"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class SegmentFilter:
    and_: list[SegmentFilter] | None = strawberry.field(name="and", default=None)
    or_: list[SegmentFilter] | None = strawberry.field(name="or", default=None)
    not_: SegmentFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    owner_id: IDFilter | None = None
    name: StringFilter | None = None
    shared: BooleanFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class SegmentOrderField(enum.Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class SegmentOrderBy:
    field: SegmentOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input(description="Fields of a segment; in an update, only the fields you send change.")
class SegmentFieldsInput:
    description: str | None = UNSET
    shared: bool | None = strawberry.field(
        default=UNSET, description="Visible to the whole company; private when left out."
    )


@strawberry.input
class CreateSegmentInput(SegmentFieldsInput):
    name: str
    filter: CustomerFilter = strawberry.field(
        description="Checked when saved exactly as the customers list checks it."
    )


@strawberry.input
class UpdateSegmentInput(SegmentFieldsInput):
    name: str | None = UNSET
    filter: CustomerFilter | None = UNSET
