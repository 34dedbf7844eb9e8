"""The Order type, with its lines, payments and refunds."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import customer_of, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.orders.models import Order as M
from crm_core.orders.models import OrderLine as L
from crm_core.orders.models import OrderPayment as P
from crm_core.orders.models import OrderRefund as R

if TYPE_CHECKING:
    from crm_api.contracts.types import Contract
    from crm_api.customers.types import Customer
    from crm_api.products.types import Product

FIELDS: dict[str, Col] = {
    "number": Col(M.number, sortable=True),
    "ordered_on": Col(M.ordered_on, sortable=True),
    "status": Col(M.status, E.OrderStatusEnum),
    "currency": Col(M.currency),
    "notes": Col(M.notes, filterable=False),
    "total_amount": Col(M.total_amount, sortable=True),
    "paid_amount": Col(M.paid_amount, sortable=True),
    "refunded_amount": Col(M.refunded_amount, sortable=True),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "contract_id": Col(M.contract_id),
    "owner_id": Col(M.owner_id),
}
LINE_FIELDS: dict[str, Col] = {
    "position": Col(L.position),
    "product_name": Col(L.product_name),
    "quantity": Col(L.quantity),
    "unit_price": Col(L.unit_price),
    "discount": Col(L.discount),
    "amount": Col(L.amount),
}
PAYMENT_FIELDS: dict[str, Col] = {
    "paid_on": Col(P.paid_on),
    "method": Col(P.method, E.PaymentMethodEnum),
    "amount": Col(P.amount),
    "currency": Col(P.currency),
    "reference": Col(P.reference),
    "created_at": Col(P.created_at),
}
REFUND_FIELDS: dict[str, Col] = {
    "refunded_on": Col(R.refunded_on),
    "amount": Col(R.amount),
    "currency": Col(R.currency),
    "reason": Col(R.reason),
    "created_at": Col(R.created_at),
}


@strawberry.type(description="One line of an order: product × quantity at a unit price.")
class OrderLine:
    position: int = strawberry.field(description="1, 2, … in the order given.")
    product_name: str = strawberry.field(description="The product's name when it was sold.")
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal = strawberry.field(description="quantity × unitPrice − discount.")
    _product_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: L) -> OrderLine:
        return cls(_product_id=row.product_id, **read_fields(row, LINE_FIELDS))

    @strawberry.field(
        description="The product sold (even if since deleted; null once destroyed).",
        extensions=requires("product:read"),
    )
    async def product(
        self, info: Info
    ) -> Annotated[Product, strawberry.lazy("crm_api.products.types")] | None:
        from crm_api.products.types import Product

        if self._product_id is None:
            return None
        row = await info.context.loaders.line_product_by_id.load(self._product_id)
        return Product.from_model(row) if row is not None else None


@strawberry.type(description="Money received for an order (in the order's currency).")
class OrderPayment:
    id: strawberry.ID
    paid_on: datetime.date
    method: E.PaymentMethodEnum
    amount: Decimal
    currency: str
    reference: str | None
    created_at: datetime.datetime

    @classmethod
    def from_model(cls, row: P) -> OrderPayment:
        return cls(
            id=strawberry.ID(to_global_id("OrderPayment", row.id)),
            **read_fields(row, PAYMENT_FIELDS),
        )


@strawberry.type(description="Money returned to the customer (in the order's currency).")
class OrderRefund:
    id: strawberry.ID
    refunded_on: datetime.date
    amount: Decimal
    currency: str
    reason: str | None
    created_at: datetime.datetime
    payment_id: strawberry.ID | None = strawberry.field(description="The payment it returns.")

    @classmethod
    def from_model(cls, row: R) -> OrderRefund:
        return cls(
            id=strawberry.ID(to_global_id("OrderRefund", row.id)),
            payment_id=(
                strawberry.ID(to_global_id("OrderPayment", row.payment_id))
                if row.payment_id is not None
                else None
            ),
            **read_fields(row, REFUND_FIELDS),
        )


@strawberry.type(
    description="An order (交易记录) of a customer: lines, status, and the money paid and refunded."
)
class Order(Node):
    number: str = strawberry.field(description="Unique among the company's live orders.")
    ordered_on: datetime.date
    status: E.OrderStatusEnum
    currency: str = strawberry.field(description="ISO 4217; lines, payments and refunds use it.")
    notes: str | None
    total_amount: Decimal = strawberry.field(description="The sum of the lines' amounts.")
    paid_amount: Decimal = strawberry.field(description="The sum of the payments.")
    refunded_amount: Decimal = strawberry.field(description="The sum of the refunds.")
    balance: Decimal = strawberry.field(
        description="Still owed: totalAmount − (paidAmount − refundedAmount)."
    )
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _pk: strawberry.Private[uuid.UUID]
    _customer_id: strawberry.Private[uuid.UUID]
    _contract_id: strawberry.Private[uuid.UUID | None]
    _owner_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M) -> Order:
        values = read_fields(row, FIELDS)
        return cls(
            id=strawberry.ID(to_global_id("Order", row.id)),
            _pk=row.id,
            _customer_id=row.customer_id,
            _contract_id=row.contract_id,
            _owner_id=row.owner_id,
            # Derived from the stored totals (no column of its own).
            balance=row.total_amount - (row.paid_amount - row.refunded_amount),
            **values,
        )

    @strawberry.field(description="The customer who ordered.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(
        description="The contract it is placed under, if any.",
        extensions=requires("contract:read"),
    )
    async def contract(
        self, info: Info
    ) -> Annotated[Contract, strawberry.lazy("crm_api.contracts.types")] | None:
        from crm_api.contracts.types import Contract

        if self._contract_id is None:
            return None
        row = await info.context.loaders.contract_by_id.load(self._contract_id)
        return Contract.from_model(row) if row is not None else None

    @strawberry.field(description="The member responsible for it.")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)

    @strawberry.field(description="Its lines, in order.")
    async def lines(self, info: Info) -> list[OrderLine]:
        rows = await info.context.loaders.order_lines_by_order_id.load(self._pk)
        return [OrderLine.from_model(r) for r in rows]

    @strawberry.field(description="Payments received, earliest first.")
    async def payments(self, info: Info) -> list[OrderPayment]:
        rows = await info.context.loaders.order_payments_by_order_id.load(self._pk)
        return [OrderPayment.from_model(r) for r in rows]

    @strawberry.field(description="Refunds made, earliest first.")
    async def refunds(self, info: Info) -> list[OrderRefund]:
        rows = await info.context.loaders.order_refunds_by_order_id.load(self._pk)
        return [OrderRefund.from_model(r) for r in rows]
