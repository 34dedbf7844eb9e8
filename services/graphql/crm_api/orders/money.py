"""Payment and refund mutations. Recording money is part of working an order (``order:update``);
destroying a payment or refund undoes money on the books, as strong as deleting the order
(``order:delete``). Each answers with the order and its new totals."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.orders import inputs as I
from crm_api.orders.types import Order, OrderPayment, OrderRefund
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_core.identity.principal import Principal
from crm_core.orders import payments
from crm_core.orders.models import Order as Row
from crm_core.orders.models import OrderPayment as PaymentRow
from crm_core.orders.models import OrderRefund as RefundRow


@strawberry.type
class RecordPaymentPayload:
    order: Order | None
    payment: OrderPayment | None
    errors: list[UserError]


@strawberry.type
class RecordRefundPayload:
    order: Order | None
    refund: OrderRefund | None
    errors: list[UserError]


@strawberry.type
class DestroyOrderMoneyPayload:
    order: Order | None = strawberry.field(description="The order with its new totals.")
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _order_pk(order_id: strawberry.ID) -> uuid.UUID:
    return from_global_id(order_id, field="order_id", expect="Order")[1]


@strawberry.type
class OrderMoneyMutations:
    @strawberry.mutation(
        description="Money received for an order; never more than the balance due.",
        extensions=requires("order:update"),
    )
    async def record_payment(
        self, info: Info, order_id: strawberry.ID, input: I.RecordPaymentInput
    ) -> RecordPaymentPayload:
        async def work(session: AsyncSession, who: Principal) -> tuple[Row, PaymentRow]:
            return await payments.record_payment(
                session, who, _order_pk(order_id), input_data(input)
            )

        result, errors = await run(info, work)
        if result is None:
            return RecordPaymentPayload(order=None, payment=None, errors=errors)
        order, payment = result
        return RecordPaymentPayload(
            order=Order.from_model(order), payment=OrderPayment.from_model(payment), errors=[]
        )

    @strawberry.mutation(
        description="Money returned; never more than was paid (nor than its payment).",
        extensions=requires("order:update"),
    )
    async def record_refund(
        self, info: Info, order_id: strawberry.ID, input: I.RecordRefundInput
    ) -> RecordRefundPayload:
        async def work(session: AsyncSession, who: Principal) -> tuple[Row, RefundRow]:
            data = input_data(input, id_fields=I.MONEY_ID_FIELDS)
            return await payments.record_refund(session, who, _order_pk(order_id), data)

        result, errors = await run(info, work)
        if result is None:
            return RecordRefundPayload(order=None, refund=None, errors=errors)
        order, refund = result
        return RecordRefundPayload(
            order=Order.from_model(order), refund=OrderRefund.from_model(refund), errors=[]
        )

    @strawberry.mutation(
        description="Remove a payment recorded by mistake (refused while refunds return it).",
        extensions=requires("order:delete"),
    )
    async def destroy_payment(self, info: Info, id: strawberry.ID) -> DestroyOrderMoneyPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            pk = from_global_id(id, expect="OrderPayment")[1]
            return await payments.destroy_payment(session, who, pk)

        order, errors = await run(info, work)
        return DestroyOrderMoneyPayload(
            order=Order.from_model(order) if order is not None else None,
            destroyed_id=id if order is not None else None,
            errors=errors,
        )

    @strawberry.mutation(
        description="Remove a refund recorded by mistake.", extensions=requires("order:delete")
    )
    async def destroy_refund(self, info: Info, id: strawberry.ID) -> DestroyOrderMoneyPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            pk = from_global_id(id, expect="OrderRefund")[1]
            return await payments.destroy_refund(session, who, pk)

        order, errors = await run(info, work)
        return DestroyOrderMoneyPayload(
            order=Order.from_model(order) if order is not None else None,
            destroyed_id=id if order is not None else None,
            errors=errors,
        )
