"""Order use cases: always on a live customer of the tenant, visible to the writer. The status
follows ``models.TRANSITIONS``; lines are given as a whole list while the order is a draft; the
totals on the order row are recomputed from its lines, payments and refunds in the same
transaction as every change to them (the order row is locked first, so concurrent payments
serialise)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contracts import repository as contracts_repo
from crm_core.contracts.service import default_currency
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.orders import repository
from crm_core.orders.models import (
    TRANSITIONS,
    ZERO,
    Order,
    OrderLine,
    OrderStatus,
    order_number_seq,
)
from crm_core.orders.payments import CENT, company_today, lock_order

# Payments and refunds live in payments.py; these names stay importable from here for callers.
from crm_core.orders.payments import destroy_payment as destroy_payment
from crm_core.orders.payments import destroy_refund as destroy_refund
from crm_core.orders.payments import record_payment as record_payment
from crm_core.orders.payments import record_refund as record_refund
from crm_core.orders.schemas import LineFields, OrderFields
from crm_core.validation import parse
from crm_core.workflow import check_transition

WHAT = "order"
NOT_NULL = ("number", "ordered_on", "status", "currency")


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity × unit price − discount, to the cent (as the database's check computes it)."""
    return (quantity * unit_price - discount).quantize(CENT, rounding=ROUND_HALF_UP)


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
        fields["ordered_on"] = await company_today(session, principal)
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
    order = await lock_order(session, principal, order_id, expected_version)
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


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(Order, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
# destroy: Hard delete with its lines, payments and refunds (the audit keeps the last values).
destroy = _lifecycle.destroy
