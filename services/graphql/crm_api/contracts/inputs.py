"""Contract and delivery inputs."""

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
    StringFilter,
    enum_filter,
)
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {
    "id": "Contract",
    "customer_id": "Customer",
    "opportunity_id": "Opportunity",
    "owner_id": "User",
}
DELIVERY_ID_FIELDS = {"id": "ContractDelivery", "contract_id": "Contract"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class ContractFilter:
    and_: list[ContractFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ContractFilter] | None = strawberry.field(name="or", default=None)
    not_: ContractFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    opportunity_id: IDFilter | None = None
    owner_id: IDFilter | None = None
    number: StringFilter | None = None
    name: StringFilter | None = None
    status: enum_filter(E.ContractStatusEnum) | None = None  # type: ignore[valid-type]
    signed_on: DateFilter | None = None
    starts_on: DateFilter | None = None
    ends_on: DateFilter | None = None
    amount: DecimalFilter | None = None
    currency: StringFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class ContractOrderField(enum.Enum):
    NUMBER = "number"
    NAME = "name"
    SIGNED_ON = "signed_on"
    STARTS_ON = "starts_on"
    ENDS_ON = "ends_on"
    AMOUNT = "amount"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ContractOrderBy:
    field: ContractOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class ContractFieldsInput:
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="An open or won opportunity of the same customer."
    )
    number: str | None = strawberry.field(
        default=UNSET, description="Unique among live contracts; CT-000123 when left out."
    )
    signed_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Not after `endsOn`."
    )
    amount: Decimal | None = strawberry.field(
        default=UNSET, description="0 or more; 0 when left out."
    )
    currency: str | None = strawberry.field(
        default=UNSET, description="ISO 4217; the company's currency when left out."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A member within your data scope; you when left out."
    )
    terms: str | None = UNSET
    notes: str | None = UNSET


@strawberry.input
class CreateContractInput(ContractFieldsInput):
    name: str
    starts_on: datetime.date
    ends_on: datetime.date = strawberry.field(description="After `startsOn`.")
    status: E.ContractStatusEnum | None = strawberry.field(
        default=UNSET, description="DRAFT (default), or ACTIVE for a contract already in force."
    )


@strawberry.input
class UpdateContractInput(ContractFieldsInput):
    name: str | None = UNSET
    starts_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Every delivery must still fall within the validity."
    )
    ends_on: datetime.date | None = UNSET
    status: E.ContractStatusEnum | None = strawberry.field(
        default=UNSET, description="Along the workflow only (see ContractStatus)."
    )


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class ContractDeliveryFilter:
    and_: list[ContractDeliveryFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ContractDeliveryFilter] | None = strawberry.field(name="or", default=None)
    not_: ContractDeliveryFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    contract_id: IDFilter | None = None
    due_on: DateFilter | None = None
    delivered_on: DateFilter | None = None
    acceptance_status: enum_filter(E.AcceptanceStatusEnum) | None = None  # type: ignore[valid-type]
    accepted_on: DateFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class ContractDeliveryOrderField(enum.Enum):
    DUE_ON = "due_on"
    DELIVERED_ON = "delivered_on"
    ACCEPTED_ON = "accepted_on"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ContractDeliveryOrderBy:
    field: ContractDeliveryOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class ContractDeliveryFieldsInput:
    delivered_on: datetime.date | None = UNSET
    acceptance_status: E.AcceptanceStatusEnum | None = strawberry.field(
        default=UNSET, description="PENDING when left out; judged only once delivered."
    )
    accepted_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Required when ACCEPTED; not before `deliveredOn`."
    )
    acceptance_notes: str | None = UNSET


@strawberry.input
class CreateContractDeliveryInput(ContractDeliveryFieldsInput):
    due_on: datetime.date = strawberry.field(description="Within the contract's validity.")
    content: str


@strawberry.input
class UpdateContractDeliveryInput(ContractDeliveryFieldsInput):
    due_on: datetime.date | None = UNSET
    content: str | None = UNSET
