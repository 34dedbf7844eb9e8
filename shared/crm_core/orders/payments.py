"""Payments and refunds of an order: each one locks the order, moves its paid and refunded totals
and so its payment status, in one transaction; undoing one recomputes them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.errors import Conflict, DomainError, ErrorCode, NotFound
from crm_core.identity.principal import Principal
from crm_core.orders import repository
from crm_core.orders.models import (
    Order,
    OrderPayment,
    OrderRefund,
    OrderStatus,
)
from crm_core.orders.schemas import PaymentFields, RefundFields
from crm_core.tenants.repository import timezone_of
from crm_core.validation import parse

CENT = Decimal("0.01")
# Money can be recorded against an order until it is cancelled; refunds also after.
NO_PAYMENTS = frozenset({OrderStatus.cancelled})
ORDER = "order"
PAYMENT = "order_payment"
REFUND = "order_refund"


def balance_of(order: Order) -> Decimal:
    """What the customer still owes: the total less the money kept (paid less refunded)."""
    return order.total_amount - (order.paid_amount - order.refunded_amount)


async def company_today(session: AsyncSession, principal: Principal) -> date:
    """Today where the company is."""
    return datetime.now(ZoneInfo(await timezone_of(session, principal.tenant.id))).date()


async def lock_order(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    expected_version: int | None = None,
    field: str = "id",
) -> Order:
    """The live, visible order, its row locked until the transaction ends: payments, refunds
    and line changes of one order are serialised, so the totals cannot be raced past."""
    stmt = (
        select(Order)
        .where(Order.id == order_id, repository.live(), repository.visible(principal.data_scope))
        .with_for_update(of=Order)
    )
    order = (await session.execute(stmt)).scalar_one_or_none()
    if order is None:
        raise NotFound(field, ORDER)
    if expected_version is not None and expected_version != order.version:
        raise Conflict()
    return order


async def _sum(session: AsyncSession, model: Any, order_id: uuid.UUID) -> Decimal:
    stmt = select(func.coalesce(func.sum(model.amount), 0)).where(model.order_id == order_id)
    return Decimal((await session.execute(stmt)).scalar_one()).quantize(CENT)


async def _retotal(session: AsyncSession, principal: Principal, order: Order, field: str) -> Order:
    """Recompute paid and refunded from the rows (never trusting a running sum), check they stay
    within the total, and write them with an audited update of the order."""
    await session.flush()
    paid = await _sum(session, OrderPayment, order.id)
    refunded = await _sum(session, OrderRefund, order.id)
    if refunded > paid:
        raise DomainError.one(field, ErrorCode.INVALID, "refunds would exceed the money paid")
    if paid - refunded > order.total_amount:
        raise DomainError.one(
            field, ErrorCode.INVALID, f"would exceed the order total ({order.total_amount})"
        )
    return await records.apply_update(
        session, principal, order, {"paid_amount": paid, "refunded_amount": refunded}, ORDER
    )


def _check_currency(given: str | None, order: Order) -> None:
    if given is not None and given != order.currency:
        raise DomainError.one(
            "currency", ErrorCode.INVALID, f"must be the order's currency ({order.currency})"
        )


async def record_payment(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, data: Mapping[str, Any]
) -> tuple[Order, OrderPayment]:
    parsed = parse(PaymentFields, dict(data))
    order = await lock_order(session, principal, order_id, field="order_id")
    if order.status in NO_PAYMENTS:
        raise DomainError.one("order_id", ErrorCode.INVALID, "the order is cancelled")
    _check_currency(parsed.currency, order)
    due = balance_of(order)
    if parsed.amount > due:
        raise DomainError.one("amount", ErrorCode.INVALID, f"exceeds the balance due ({due})")
    payment = OrderPayment(
        order_id=order.id,
        paid_on=parsed.paid_on or await company_today(session, principal),
        method=parsed.method,
        amount=parsed.amount,
        reference=normalize.clean_text(parsed.reference) if parsed.reference else None,
        currency=order.currency,
        created_by=principal.user_id,
    )
    session.add(payment)
    await session.flush()
    audit.record(session, principal, "create", PAYMENT, payment.id, audit.snapshot(payment))
    return await _retotal(session, principal, order, "amount"), payment


async def record_refund(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, data: Mapping[str, Any]
) -> tuple[Order, OrderRefund]:
    parsed = parse(RefundFields, dict(data))
    order = await lock_order(session, principal, order_id, field="order_id")
    _check_currency(parsed.currency, order)
    if parsed.payment_id is not None:
        payment = await session.get(OrderPayment, parsed.payment_id)
        if payment is None or payment.order_id != order.id:
            raise DomainError.one(
                "payment_id", ErrorCode.NOT_FOUND, "no such payment of this order"
            )
        returned = (
            await session.execute(
                select(func.coalesce(func.sum(OrderRefund.amount), 0)).where(
                    OrderRefund.payment_id == payment.id
                )
            )
        ).scalar_one()
        left = payment.amount - Decimal(returned)
        if parsed.amount > left:
            raise DomainError.one(
                "amount", ErrorCode.INVALID, f"exceeds what is left of the payment ({left})"
            )
    kept = order.paid_amount - order.refunded_amount
    if parsed.amount > kept:
        raise DomainError.one("amount", ErrorCode.INVALID, f"exceeds the money paid ({kept})")
    refund = OrderRefund(
        order_id=order.id,
        payment_id=parsed.payment_id,
        refunded_on=parsed.refunded_on or await company_today(session, principal),
        amount=parsed.amount,
        reason=normalize.clean_multiline(parsed.reason) if parsed.reason else None,
        currency=order.currency,
        created_by=principal.user_id,
    )
    session.add(refund)
    await session.flush()
    audit.record(session, principal, "create", REFUND, refund.id, audit.snapshot(refund))
    return await _retotal(session, principal, order, "amount"), refund


async def destroy_payment(
    session: AsyncSession, principal: Principal, payment_id: uuid.UUID
) -> Order:
    """Undo a payment recorded by mistake. Refused while refunds point to it."""
    order_id = (
        await session.execute(select(OrderPayment.order_id).where(OrderPayment.id == payment_id))
    ).scalar_one_or_none()
    if order_id is None:
        raise NotFound("id", PAYMENT)
    try:
        order = await lock_order(session, principal, order_id)
    except NotFound:
        raise NotFound("id", PAYMENT) from None
    payment = await session.get(OrderPayment, payment_id)
    assert payment is not None
    pointing = select(OrderRefund.id).where(OrderRefund.payment_id == payment_id).limit(1)
    if (await session.execute(pointing)).first() is not None:
        raise DomainError.one(
            "id", ErrorCode.INVALID, "refunds return this payment: destroy them first"
        )
    last = audit.snapshot(payment)
    await session.execute(delete(OrderPayment).where(OrderPayment.id == payment_id))
    audit.record(session, principal, "destroy", PAYMENT, payment_id, {"before": last})
    return await _retotal(session, principal, order, "id")


async def destroy_refund(
    session: AsyncSession, principal: Principal, refund_id: uuid.UUID
) -> Order:
    """Undo a refund recorded by mistake."""
    refund = await session.get(OrderRefund, refund_id)
    if refund is None:
        raise NotFound("id", REFUND)
    try:
        order = await lock_order(session, principal, refund.order_id)
    except NotFound:
        raise NotFound("id", REFUND) from None
    last = audit.snapshot(refund)
    await session.execute(delete(OrderRefund).where(OrderRefund.id == refund_id))
    audit.record(session, principal, "destroy", REFUND, refund_id, {"before": last})
    return await _retotal(session, principal, order, "id")
