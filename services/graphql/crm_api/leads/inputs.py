"""Lead inputs: filter, ordering, create, update and conversion."""

from __future__ import annotations

import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.customers.inputs import UpdateCustomerInput
from crm_api.filters import DateTimeFilter, IDFilter, StringFilter, StringListFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {
    "id": "Lead",
    "owner_id": "User",
    "converted_customer_id": "Customer",
    "converted_contact_id": "Contact",
}


@strawberry.input(description="Score comparisons (0–100).")
class LeadScoreFilter:
    eq: int | None = None
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class LeadFilter:
    and_: list[LeadFilter] | None = strawberry.field(name="and", default=None)
    or_: list[LeadFilter] | None = strawberry.field(name="or", default=None)
    not_: LeadFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    owner_id: IDFilter | None = None
    converted_customer_id: IDFilter | None = None
    converted_contact_id: IDFilter | None = None
    name: StringFilter | None = None
    company_name: StringFilter | None = None
    title: StringFilter | None = None
    phone: StringFilter | None = None
    email: StringFilter | None = None
    source: enum_filter(E.CustomerSource) | None = None  # type: ignore[valid-type]
    interests: StringListFilter | None = None
    status: enum_filter(E.LeadStatusEnum) | None = None  # type: ignore[valid-type]
    score: LeadScoreFilter | None = None
    province: StringFilter | None = None
    city: StringFilter | None = None
    converted_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class LeadOrderField(enum.Enum):
    NAME = "name"
    COMPANY_NAME = "company_name"
    SCORE = "score"
    PROVINCE = "province"
    CITY = "city"
    CONVERTED_AT = "converted_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class LeadOrderBy:
    field: LeadOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input(description="Fields of a lead; in an update, only the fields you send change.")
class LeadFieldsInput:
    company_name: str | None = UNSET
    title: str | None = UNSET
    phone: str | None = strawberry.field(default=UNSET, description="Any format; stored as E.164.")
    email: str | None = UNSET
    source: E.CustomerSource | None = UNSET
    interests: list[str] | None = strawberry.field(
        default=UNSET, description="At most 30, each at most 100 characters."
    )
    score: int | None = strawberry.field(default=UNSET, description="0–100; 0 when left out.")
    owner_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A member within your data scope; you, when left out."
    )
    notes: str | None = UNSET
    province: str | None = UNSET
    city: str | None = UNSET


@strawberry.input
class CreateLeadInput(LeadFieldsInput):
    name: str


@strawberry.input
class UpdateLeadInput(LeadFieldsInput):
    name: str | None = UNSET
    status: E.LeadStatusEnum | None = strawberry.field(
        default=UNSET, description="Along the workflow only; CONVERTED only through convertLead."
    )


@strawberry.input(
    description="How to convert: into a new customer made from the lead (its fields overridden or "
    "completed by `customer`), or onto an existing customer (`customerId`: only the contact is "
    "made there). Give one of the two, or neither for a new customer from the lead alone."
)
class ConvertLeadInput:
    customer_id: strawberry.ID | None = UNSET
    customer: UpdateCustomerInput | None = strawberry.field(
        default=UNSET,
        description="Customer fields over those taken from the lead (code, kind, name, …).",
    )
