"""Customer inputs: filter, ordering, create and update."""

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
    IDFilter,
    StringFilter,
    StringListFilter,
    enum_filter,
)
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"owner_id": "User", "id": "Customer", "previous_owner_id": "User"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class CustomerFilter:
    and_: list[CustomerFilter] | None = strawberry.field(name="and", default=None)
    or_: list[CustomerFilter] | None = strawberry.field(name="or", default=None)
    not_: CustomerFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    code: StringFilter | None = None
    name: StringFilter | None = None
    kind: enum_filter(E.CustomerKind) | None = None  # type: ignore[valid-type]
    industry: StringFilter | None = None
    grade: enum_filter(E.CustomerGrade) | None = None  # type: ignore[valid-type]
    tags: StringListFilter | None = None
    lifecycle_stage: enum_filter(E.LifecycleStage) | None = None  # type: ignore[valid-type]
    source: enum_filter(E.CustomerSource) | None = None  # type: ignore[valid-type]
    owner_id: IDFilter | None = None
    phone: StringFilter | None = None
    email: StringFilter | None = None
    country: StringFilter | None = None
    province: StringFilter | None = None
    city: StringFilter | None = None
    district: StringFilter | None = None
    postal_code: StringFilter | None = None
    credit_rating: enum_filter(E.CreditRating) | None = None  # type: ignore[valid-type]
    payment_habit: enum_filter(E.PaymentHabit) | None = None  # type: ignore[valid-type]
    preferred_service_mode: enum_filter(E.ServiceMode) | None = None  # type: ignore[valid-type]
    gender: enum_filter(E.Gender) | None = None  # type: ignore[valid-type]
    birth_date: DateFilter | None = None
    area_type: enum_filter(E.AreaType) | None = None  # type: ignore[valid-type]
    income_band: enum_filter(E.IncomeBand) | None = None  # type: ignore[valid-type]
    # The shared pool (customerPool): why and since when a customer is there, and whose it was.
    pool_reason: enum_filter(E.PoolReasonEnum) | None = None  # type: ignore[valid-type]
    pool_entered_at: DateTimeFilter | None = None
    previous_owner_id: IDFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class CustomerOrderField(enum.Enum):
    NAME = "name"
    CODE = "code"
    INDUSTRY = "industry"
    GRADE = "grade"
    LIFECYCLE_STAGE = "lifecycle_stage"
    PROVINCE = "province"
    CITY = "city"
    DISTANCE_KM = "distance_km"
    POOL_ENTERED_AT = "pool_entered_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class CustomerOrderBy:
    field: CustomerOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class ImportantDateInput:
    label: str
    date: datetime.date


@strawberry.input
class VisitWindowInput:
    start: str = strawberry.field(description="HH:MM")
    end: str = strawberry.field(description="HH:MM")
    weekday: int | None = strawberry.field(
        default=None, description="1 = Monday; empty = every day"
    )
    note: str | None = None


@strawberry.input(
    description="Fields of a customer; in an update, only the fields you send change."
)
class CustomerFieldsInput:
    code: str | None = UNSET
    industry: str | None = UNSET
    grade: E.CustomerGrade | None = UNSET
    tags: list[str] | None = UNSET
    lifecycle_stage: E.LifecycleStage | None = UNSET
    lifecycle_reason: str | None = strawberry.field(
        default=UNSET,
        description="Why the lifecycle stage is set or changed (at most 2000 characters); kept "
        "in the lifecycle history with the change, ignored when the stage does not change.",
    )
    source: E.CustomerSource | None = UNSET
    owner_id: strawberry.ID | None = UNSET
    phone: str | None = strawberry.field(default=UNSET, description="Any format; stored as E.164.")
    email: str | None = UNSET
    website: str | None = UNSET
    address_line: str | None = strawberry.field(
        default=UNSET,
        description="One-line address; split into province/city/district when those are empty.",
    )
    country: str | None = UNSET
    province: str | None = UNSET
    city: str | None = UNSET
    district: str | None = UNSET
    street: str | None = UNSET
    postal_code: str | None = UNSET
    credit_rating: E.CreditRating | None = UNSET
    payment_habit: E.PaymentHabit | None = UNSET
    preferred_products: list[str] | None = UNSET
    purchase_frequency: str | None = UNSET
    preferred_service_mode: E.ServiceMode | None = UNSET
    gender: E.Gender | None = UNSET
    birth_date: datetime.date | None = UNSET
    area_type: E.AreaType | None = UNSET
    income_band: E.IncomeBand | None = UNSET
    important_dates: list[ImportantDateInput] | None = UNSET
    do_not_visit: list[VisitWindowInput] | None = UNSET
    distance_km: Decimal | None = UNSET
    notes: str | None = UNSET
    tax_id: str | None = strawberry.field(
        default=UNSET, description="Tax or national id; stored encrypted, found by exact value."
    )
    bank_account: str | None = strawberry.field(default=UNSET, description="Stored encrypted.")


@strawberry.input
class CreateCustomerInput(CustomerFieldsInput):
    name: str
    kind: E.CustomerKind


@strawberry.input
class UpdateCustomerInput(CustomerFieldsInput):
    name: str | None = UNSET
    kind: E.CustomerKind | None = UNSET
