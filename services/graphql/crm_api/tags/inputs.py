"""Tag inputs."""

from __future__ import annotations

import enum

import strawberry
from strawberry import UNSET

from crm_api.filters import DateTimeFilter, IDFilter, StringFilter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "Tag"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class TagFilter:
    and_: list[TagFilter] | None = strawberry.field(name="and", default=None)
    or_: list[TagFilter] | None = strawberry.field(name="or", default=None)
    not_: TagFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    name: StringFilter | None = None
    category: StringFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class TagOrderField(enum.Enum):
    NAME = "name"
    CATEGORY = "category"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class TagOrderBy:
    field: TagOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input(description="Fields of a tag; in an update, only the fields you send change.")
class TagFieldsInput:
    color: str | None = strawberry.field(default=UNSET, description="#RRGGBB")
    category: str | None = UNSET
    description: str | None = UNSET


@strawberry.input
class CreateTagInput(TagFieldsInput):
    name: str


@strawberry.input
class UpdateTagInput(TagFieldsInput):
    name: str | None = strawberry.field(
        default=UNSET, description="Renaming renames the tag on every customer carrying it."
    )
