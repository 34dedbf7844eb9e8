"""Interaction inputs."""

from __future__ import annotations

import datetime
import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import DateFilter, DateTimeFilter, IDFilter, StringFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {
    "id": "Interaction",
    "customer_id": "Customer",
    "contact_id": "Contact",
    "staff_user_id": "User",
}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class InteractionFilter:
    and_: list[InteractionFilter] | None = strawberry.field(name="and", default=None)
    or_: list[InteractionFilter] | None = strawberry.field(name="or", default=None)
    not_: InteractionFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    contact_id: IDFilter | None = None
    staff_user_id: IDFilter | None = None
    occurred_at: DateTimeFilter | None = None
    channel: enum_filter(E.InteractionChannelEnum) | None = None  # type: ignore[valid-type]
    subject: StringFilter | None = None
    next_contact_on: DateFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class InteractionOrderField(enum.Enum):
    OCCURRED_AT = "occurred_at"
    NEXT_CONTACT_ON = "next_contact_on"
    SUBJECT = "subject"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class InteractionOrderBy:
    field: InteractionOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class InteractionFieldsInput:
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contact of the same customer."
    )
    staff_user_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who made the contact; you, when left out on create."
    )
    subject: str | None = UNSET
    content: str | None = UNSET
    result: str | None = UNSET
    next_contact_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Not before the date of `occurredAt` (in the company's zone)."
    )


@strawberry.input
class CreateInteractionInput(InteractionFieldsInput):
    occurred_at: datetime.datetime
    channel: E.InteractionChannelEnum


@strawberry.input
class UpdateInteractionInput(InteractionFieldsInput):
    occurred_at: datetime.datetime | None = UNSET
    channel: E.InteractionChannelEnum | None = UNSET
