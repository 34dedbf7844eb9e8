"""What a caller may write into an order, its lines, a payment or a refund."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm_core.contracts.schemas import Currency, Money, Number
from crm_core.orders.models import OrderStatus, PaymentMethod

# An order is typed in by a person or sent by an integration: a few hundred lines at most.
MAX_LINES = 200
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
Positive = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]


class LineFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: Quantity
    # The product's price when left out.
    unit_price: Money | None = None
    discount: Money | None = None


class OrderFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contract_id: uuid.UUID | None = None
    number: Number | None = None
    ordered_on: date | None = None
    status: OrderStatus | None = None
    currency: Currency | None = None
    owner_id: uuid.UUID | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    lines: Annotated[list[LineFields], Field(max_length=MAX_LINES)] | None = None


class PaymentFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    paid_on: date | None = None
    method: PaymentMethod
    amount: Positive
    reference: Annotated[str, StringConstraints(max_length=200)] | None = None
    # Optional; when given it must be the order's.
    currency: Currency | None = None


class RefundFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    payment_id: uuid.UUID | None = None
    refunded_on: date | None = None
    amount: Positive
    reason: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    currency: Currency | None = None
