"""Opportunity inputs, and the funnel's."""

from __future__ import annotations

import datetime
import enum
from decimal import Decimal

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import (
    DateFilter,
    DateTimeFilter,
    DecimalFilter,
    IDFilter,
    IntFilter,
    StringFilter,
    enum_filter,
)
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {
    "id": "Opportunity",
    "customer_id": "Customer",
    "requirement_id": "RequirementAnalysis",
    "owner_id": "User",
}
# Global ids inside a line.
LINE_ID_FIELDS = {"product_id": "Product"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class OpportunityFilter:
    and_: list[OpportunityFilter] | None = strawberry.field(name="and", default=None)
    or_: list[OpportunityFilter] | None = strawberry.field(name="or", default=None)
    not_: OpportunityFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    requirement_id: IDFilter | None = None
    owner_id: IDFilter | None = None
    name: StringFilter | None = None
    stage: StringFilter | None = None
    probability: IntFilter | None = None
    outcome: enum_filter(E.OpportunityOutcomeEnum) | None = None  # type: ignore[valid-type]
    expected_amount: DecimalFilter | None = None
    currency: StringFilter | None = None
    expected_close_on: DateFilter | None = None
    source: StringFilter | None = None
    closed_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class OpportunityOrderField(enum.Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"
    EXPECTED_AMOUNT = "expected_amount"
    EXPECTED_CLOSE_ON = "expected_close_on"
    STAGE = "stage"
    PROBABILITY = "probability"
    SOURCE = "source"
    CLOSED_AT = "closed_at"


@strawberry.input
class OpportunityOrderBy:
    field: OpportunityOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input(description="A product line.")
class OpportunityLineInput:
    product_id: strawberry.ID = strawberry.field(description="A live, active product.")
    quantity: Decimal = strawberry.field(description="More than 0.")
    unit_price: Decimal | None = strawberry.field(
        default=UNSET, description="The product's list price when left out (same currency)."
    )


@strawberry.input
class OpportunityFieldsInput:
    requirement_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A requirement analysis of the same customer."
    )
    description: str | None = UNSET
    customer_need: str | None = UNSET
    expected_amount: Decimal | None = strawberry.field(
        default=UNSET,
        description="Not negative; on create, the lines' total when left out.",
    )
    currency: str | None = strawberry.field(
        default=UNSET, description="ISO 4217; the company's currency when left out on create."
    )
    expected_close_on: datetime.date | None = UNSET
    stage: str | None = strawberry.field(
        default=UNSET,
        description="A stage key of the company's funnel; moves only as the funnel allows. "
        "The funnel's first stage when left out on create.",
    )
    probability: int | None = strawberry.field(
        default=UNSET, description="0–100; the stage's when left out."
    )
    source: str | None = UNSET
    owner_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A member within your data scope; you when left out."
    )
    progress: str | None = UNSET
    won_reason: str | None = UNSET
    lost_reason: str | None = UNSET
    products: list[OpportunityLineInput] | None = strawberry.field(
        default=UNSET, description="The whole list of lines: replaces the stored one."
    )


@strawberry.input
class CreateOpportunityInput(OpportunityFieldsInput):
    name: str


@strawberry.input
class UpdateOpportunityInput(OpportunityFieldsInput):
    name: str | None = UNSET


@strawberry.input(description="A stage of the funnel, in funnel order.")
class OpportunityStageInput:
    key: str = strawberry.field(description="lower_case; `won` and `lost` are required and final.")
    name: str
    probability: int = strawberry.field(description="0–100; won is 100, lost 0.")
    next: list[str] = strawberry.field(
        default_factory=list, description="Stage keys it may move to; `lost` is always allowed."
    )
