"""Product inputs."""

from __future__ import annotations

import enum
from decimal import Decimal

import strawberry
from strawberry import UNSET

from crm_api.filters import BooleanFilter, DateTimeFilter, DecimalFilter, IDFilter, StringFilter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "Product"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class ProductFilter:
    and_: list[ProductFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ProductFilter] | None = strawberry.field(name="or", default=None)
    not_: ProductFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    code: StringFilter | None = None
    name: StringFilter | None = None
    category: StringFilter | None = None
    unit: StringFilter | None = None
    unit_price: DecimalFilter | None = None
    cost: DecimalFilter | None = None
    currency: StringFilter | None = None
    active: BooleanFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class ProductOrderField(enum.Enum):
    NAME = "name"
    CODE = "code"
    CATEGORY = "category"
    UNIT_PRICE = "unit_price"
    COST = "cost"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ProductOrderBy:
    field: ProductOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class ProductFieldsInput:
    category: str | None = UNSET
    unit: str | None = strawberry.field(default=UNSET, description="台, 套, piece…")
    cost: Decimal | None = strawberry.field(default=UNSET, description="Not negative.")
    currency: str | None = strawberry.field(
        default=UNSET, description="ISO 4217; the company's currency when left out on create."
    )
    active: bool | None = strawberry.field(default=UNSET, description="True when left out.")
    description: str | None = UNSET


@strawberry.input
class CreateProductInput(ProductFieldsInput):
    code: str
    name: str
    unit_price: Decimal | None = strawberry.field(
        default=UNSET, description="Not negative; 0 when left out."
    )


@strawberry.input
class UpdateProductInput(ProductFieldsInput):
    code: str | None = UNSET
    name: str | None = UNSET
    unit_price: Decimal | None = UNSET
