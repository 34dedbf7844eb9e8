"""Order, line, payment and refund inputs."""

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
    "id": "Order",
    "customer_id": "Customer",
    "contract_id": "Contract",
    "owner_id": "User",
    "product_id": "Product",
}
MONEY_ID_FIELDS = {"payment_id": "OrderPayment"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class OrderFilter:
    and_: list[OrderFilter] | None = strawberry.field(name="and", default=None)
    or_: list[OrderFilter] | None = strawberry.field(name="or", default=None)
    not_: OrderFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    contract_id: IDFilter | None = None
    owner_id: IDFilter | None = None
    number: StringFilter | None = None
    ordered_on: DateFilter | None = None
    status: enum_filter(E.OrderStatusEnum) | None = None  # type: ignore[valid-type]
    currency: StringFilter | None = None
    total_amount: DecimalFilter | None = None
    paid_amount: DecimalFilter | None = None
    refunded_amount: DecimalFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class OrderOrderField(enum.Enum):
    NUMBER = "number"
    ORDERED_ON = "ordered_on"
    TOTAL_AMOUNT = "total_amount"
    PAID_AMOUNT = "paid_amount"
    REFUNDED_AMOUNT = "refunded_amount"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class OrderOrderBy:
    field: OrderOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input(description="A line: amount = quantity × unitPrice − discount (never below 0).")
class OrderLineInput:
    product_id: strawberry.ID = strawberry.field(description="A live, active product.")
    quantity: Decimal = strawberry.field(description="More than 0; up to 3 decimals.")
    unit_price: Decimal | None = strawberry.field(
        default=UNSET, description="The product's price when left out."
    )
    discount: Decimal | None = strawberry.field(default=UNSET, description="0 when left out.")


@strawberry.input
class OrderFieldsInput:
    contract_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contract of the same customer."
    )
    number: str | None = strawberry.field(
        default=UNSET, description="Unique among live orders; SO-000123 when left out."
    )
    ordered_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Today (the company's time zone) when left out."
    )
    currency: str | None = strawberry.field(
        default=UNSET,
        description="ISO 4217; the contract's, else the company's, when left out. Changes only "
        "while a draft with nothing paid.",
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A member within your data scope; you when left out."
    )
    notes: str | None = UNSET
    lines: list[OrderLineInput] | None = strawberry.field(
        default=UNSET,
        description="The whole list (replacing the lines on update; only while DRAFT).",
    )


@strawberry.input
class CreateOrderInput(OrderFieldsInput):
    pass


@strawberry.input
class UpdateOrderInput(OrderFieldsInput):
    status: E.OrderStatusEnum | None = strawberry.field(
        default=UNSET, description="Along the workflow only (see OrderStatus)."
    )


@strawberry.input
class RecordPaymentInput:
    amount: Decimal = strawberry.field(description="More than 0; at most the balance due.")
    method: E.PaymentMethodEnum
    paid_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Today when left out."
    )
    reference: str | None = strawberry.field(
        default=UNSET, description="Bank or transaction reference."
    )
    currency: str | None = strawberry.field(
        default=UNSET, description="When given, it must be the order's."
    )


@strawberry.input
class RecordRefundInput:
    amount: Decimal = strawberry.field(description="More than 0; at most the money kept.")
    payment_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The payment it returns (of the same order)."
    )
    refunded_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Today when left out."
    )
    reason: str | None = UNSET
    currency: str | None = strawberry.field(
        default=UNSET, description="When given, it must be the order's."
    )
