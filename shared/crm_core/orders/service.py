"""Order use cases: always on a live customer of the tenant, visible to the writer. The status
follows ``models.TRANSITIONS``; lines are given as a whole list while the order is a draft; the
totals on the order row are recomputed from its lines, payments and refunds in the same
transaction as every change to them (the order row is locked first, so concurrent payments
serialise)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contracts import repository as contracts_repo
from crm_core.contracts.service import default_currency, indexed
from crm_core.customers import repository as customers_repo
from crm_core.errors import Conflict, DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.orders import repository
from crm_core.orders.models import (
    TRANSITIONS,
    ZERO,
    Order,
    OrderLine,
    OrderPayment,
    OrderRefund,
    OrderStatus,
    order_number_seq,
)
from crm_core.orders.schemas import LineFields, OrderFields, PaymentFields, RefundFields
from crm_core.tenants.repository import timezone_of
from crm_core.validation import parse
from crm_core.workflow import check_transition

WHAT = "order"
PAYMENT = "order_payment"
REFUND = "order_refund"
NOT_NULL = ("number", "ordered_on", "status", "currency")
CENT = Decimal("0.01")
# Money can be recorded against an order until it is cancelled; refunds also after.
NO_PAYMENTS = frozenset({OrderStatus.cancelled})


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity × unit price − discount, to the cent (as the database's check computes it)."""
    return (quantity * unit_price - discount).quantize(CENT, rounding=ROUND_HALF_UP)


def balance_of(order: Order) -> Decimal:
    """What the customer still owes: the total less the money kept (paid less refunded)."""
    return order.total_amount - (order.paid_amount - order.refunded_amount)


async def _today(session: AsyncSession, principal: Principal) -> date:
    """Today where the company is."""
    return datetime.now(ZoneInfo(await timezone_of(session, principal.tenant.id))).date()


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(OrderFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("number") is not None:
        fields["number"] = normalize.clean_text(fields["number"])
    if fields.get("notes") is not None:
        fields["notes"] = normalize.clean_multiline(fields["notes"])
    return fields


def _refresh_search(o: Order) -> None:
    o.search_text = normalize.search_text(o.number, (o.notes or "")[:500])


async def _flush(session: AsyncSession) -> None:
    """Two writers racing for one number: the partial unique index decides."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_orders_number_live" in str(exc.orig):
            raise DomainError.one(
                "number", ErrorCode.DUPLICATE, "another order has this number"
            ) from None
        raise


async def _check_number(
    session: AsyncSession, number: str, other_than: uuid.UUID | None = None
) -> None:
    if await repository.number_taken(session, number, other_than=other_than):
        raise DomainError.one("number", ErrorCode.DUPLICATE, "another order has this number")


async def _next_number(session: AsyncSession) -> str:
    while True:  # a hand-typed number may already use the sequence's next value
        n = (await session.execute(select(order_number_seq.next_value()))).scalar_one()
        number = f"SO-{n:06d}"
        if not await repository.number_taken(session, number):
            return number


async def _check_contract(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, contract_id: uuid.UUID
) -> Any:
    """A live contract of the SAME customer, visible to the writer; else "not found"."""
    contract = await contracts_repo.get(session, contract_id, scope=principal.data_scope)
    if contract is None or contract.customer_id != customer_id:
        raise DomainError.one(
            "contract_id", ErrorCode.NOT_FOUND, "no such contract of this customer"
        )
    return contract


async def _build_lines(
    session: AsyncSession,
    items: Sequence[LineFields],
    currency: str,
    *,
    kept_products: frozenset[uuid.UUID] = frozenset(),
) -> list[OrderLine]:
    """Lines for ``items``: each product a live product of this tenant (another tenant's does not
    exist here), active unless already on the order; the price defaults to the product's, which
    must then be in the order's currency."""
    from crm_core.products.models import Product

    ids = list({item.product_id for item in items})
    products = {
        p.id: p
        for p in (
            await session.execute(
                select(Product).where(Product.id.in_(ids), Product.deleted_at.is_(None))
            )
        ).scalars()
    }
    errors: list[FieldError] = []
    lines = []
    for i, item in enumerate(items):
        product = products.get(item.product_id)
        if product is None:
            errors.append(
                FieldError(f"lines.{i}.product_id", ErrorCode.NOT_FOUND, "no such product")
            )
            continue
        if not product.active and product.id not in kept_products:
            errors.append(
                FieldError(f"lines.{i}.product_id", ErrorCode.INVALID, "the product is inactive")
            )
            continue
        price = item.unit_price
        if price is None:
            if product.currency != currency:
                errors.append(
                    FieldError(
                        f"lines.{i}.unit_price",
                        ErrorCode.REQUIRED,
                        f"the product is priced in {product.currency}; give a price in {currency}",
                    )
                )
                continue
            price = product.unit_price
        discount = item.discount if item.discount is not None else ZERO
        amount = line_amount(item.quantity, price, discount)
        if amount < 0:
            errors.append(
                FieldError(
                    f"lines.{i}.discount",
                    ErrorCode.INVALID,
                    "must not exceed quantity × unit price",
                )
            )
            continue
        lines.append(
            OrderLine(
                position=i + 1,
                product_id=product.id,
                product_name=product.name,
                quantity=item.quantity,
                unit_price=price,
                discount=discount,
                amount=amount,
            )
        )
    if errors:
        raise DomainError(errors)
    return lines


def _lines_snapshot(lines: Sequence[OrderLine]) -> list[dict[str, Any]]:
    return [
        audit.snapshot(
            line, ("position", "product_id", "quantity", "unit_price", "discount", "amount")
        )
        for line in lines
    ]


async def _lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderLine]:
    stmt = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
    return list((await session.execute(stmt)).scalars())


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> Order:
    parsed = parse(OrderFields, dict(data))
    fields = _fields(data)
    items = parsed.lines or []
    fields.pop("lines", None)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    if fields.setdefault("status", OrderStatus.draft) is not OrderStatus.draft:
        raise DomainError.one("status", ErrorCode.INVALID, "an order starts as a draft")
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    contract = None
    if fields.get("contract_id") is not None:
        contract = await _check_contract(session, principal, customer_id, fields["contract_id"])
    # A person owns what they create; an integration's records go to the shared pool.
    fields.setdefault("owner_id", None if principal.client_id else principal.user_id)
    if fields["owner_id"] is not None:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("number"):
        await _check_number(session, fields["number"])
    else:
        fields["number"] = await _next_number(session)
    if fields.get("currency") is None:
        fields["currency"] = (
            contract.currency
            if contract is not None
            else await default_currency(session, principal)
        )
    if fields.get("ordered_on") is None:
        fields["ordered_on"] = await _today(session, principal)
    lines = await _build_lines(session, items, fields["currency"])
    order = Order(
        customer_id=customer_id,
        **fields,
        total_amount=sum((line.amount for line in lines), ZERO),
        paid_amount=ZERO,
        refunded_amount=ZERO,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(order)
    session.add(order)
    await _flush(session)
    for line in lines:
        line.order_id = order.id
    session.add_all(lines)
    await session.flush()
    audit.record(
        session,
        principal,
        "create",
        WHAT,
        order.id,
        audit.snapshot(order) | {"lines": _lines_snapshot(lines)},
    )
    return order


async def create_many(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    items: Sequence[Mapping[str, Any]],
) -> list[Order]:
    """All or nothing: an error in item ``i`` names ``{i}.field`` and nothing is written."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create(session, principal, customer_id, item))
        except DomainError as exc:
            raise DomainError(indexed(exc.errors, i)) from None
    return out


async def _locked(
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
        .where(Order.id == order_id, repository.live(), _visible(principal))
        .with_for_update(of=Order)
    )
    order = (await session.execute(stmt)).scalar_one_or_none()
    if order is None:
        raise NotFound(field, WHAT)
    if expected_version is not None and expected_version != order.version:
        raise Conflict()
    return order


async def update(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Order:
    """The customer does not change. ``lines`` (a whole new list) only while the order is a
    draft; the currency only while nothing has been paid."""
    parsed = parse(OrderFields, dict(data))
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in (*NOT_NULL, "lines")
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    new_lines = "lines" in fields
    fields.pop("lines", None)
    order = await _locked(session, principal, order_id, expected_version)
    if fields.get("status") is not None:
        check_transition(TRANSITIONS, order.status, fields["status"])
    if new_lines and order.status is not OrderStatus.draft:
        raise DomainError.one(
            "lines", ErrorCode.INVALID, "lines change only while the order is a draft"
        )
    currency = fields.get("currency", order.currency)
    if currency != order.currency and order.paid_amount > 0:
        raise DomainError.one(
            "currency", ErrorCode.INVALID, "cannot change once payments are recorded"
        )
    if currency != order.currency and order.status is not OrderStatus.draft:
        raise DomainError.one(
            "currency", ErrorCode.INVALID, "changes only while the order is a draft"
        )
    if fields.get("contract_id") not in (None, order.contract_id):
        await _check_contract(session, principal, order.customer_id, fields["contract_id"])
    if "owner_id" in fields:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("number") not in (None, order.number):
        await _check_number(session, fields["number"], other_than=order.id)
    extra: dict[str, Any] = {}
    if new_lines:
        old = await _lines_of(session, order.id)
        lines = await _build_lines(
            session,
            parsed.lines or [],
            currency,
            kept_products=frozenset(p for line in old if (p := line.product_id) is not None),
        )
        total = sum((line.amount for line in lines), ZERO)
        if order.paid_amount - order.refunded_amount > total:
            raise DomainError.one(
                "lines", ErrorCode.INVALID, "the total would fall below the money already paid"
            )
        await session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
        for line in lines:
            line.order_id = order.id
        session.add_all(lines)
        fields["total_amount"] = total
        before, after = _lines_snapshot(old), _lines_snapshot(lines)
        if before != after:
            extra["lines"] = [before, after]
    return await records.apply_update(
        session,
        principal,
        order,
        fields,
        WHAT,
        refresh=_refresh_search,
        flush=_flush,
        extra_changes=extra,
    )


async def soft_delete(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    *,
    expected_version: int | None,
) -> Order:
    return await records.soft_delete(
        session,
        principal,
        Order,
        order_id,
        expected_version=expected_version,
        what=WHAT,
        visible=_visible(principal),
    )


async def restore(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """Only under a live, visible customer, and while no live order took its number."""
    order = await repository.get(
        session, order_id, include_deleted=True, scope=principal.data_scope
    )
    if order is not None and order.deleted_at is not None:
        await _check_number(session, order.number, other_than=order.id)
    return await records.restore(
        session, principal, Order, order_id, WHAT, visible=_visible(principal)
    )


async def destroy(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> uuid.UUID:
    """Hard delete with its lines, payments and refunds (the audit keeps the last values)."""
    return await records.destroy(
        session, principal, Order, order_id, WHAT, visible=_visible(principal)
    )


# --- money ----------------------------------------------------------------------------------


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
        session, principal, order, {"paid_amount": paid, "refunded_amount": refunded}, WHAT
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
    order = await _locked(session, principal, order_id, field="order_id")
    if order.status in NO_PAYMENTS:
        raise DomainError.one("order_id", ErrorCode.INVALID, "the order is cancelled")
    _check_currency(parsed.currency, order)
    due = balance_of(order)
    if parsed.amount > due:
        raise DomainError.one("amount", ErrorCode.INVALID, f"exceeds the balance due ({due})")
    payment = OrderPayment(
        order_id=order.id,
        paid_on=parsed.paid_on or await _today(session, principal),
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
    order = await _locked(session, principal, order_id, field="order_id")
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
        refunded_on=parsed.refunded_on or await _today(session, principal),
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
        order = await _locked(session, principal, order_id)
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
        order = await _locked(session, principal, refund.order_id)
    except NotFound:
        raise NotFound("id", REFUND) from None
    last = audit.snapshot(refund)
    await session.execute(delete(OrderRefund).where(OrderRefund.id == refund_id))
    audit.record(session, principal, "destroy", REFUND, refund_id, {"before": last})
    return await _retotal(session, principal, order, "id")


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)
