"""Order queries (tenant-bound sessions only): the shared rules for a customer's records, plus an
order's lines, payments and refunds (visible through their order)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers.children import PER_CUSTOMER_LIMIT, CustomerChildren
from crm_core.identity.principal import DataScope
from crm_core.orders.models import Order, OrderLine, OrderPayment, OrderRefund

_children = CustomerChildren(
    Order,
    order_by=(Order.ordered_on.desc(), Order.id.desc()),
    search_column=Order.search_text,
)

live = _children.live
visible = _children.visible
get = _children.get
get_many = _children.get_many
by_customers = _children.by_customers
base_select = _children.base_select

PER_CONTRACT_LIMIT = 100


async def number_taken(
    session: AsyncSession, number: str, *, other_than: uuid.UUID | None = None
) -> bool:
    """Across the whole tenant (whoever sees it): numbers are unique among live orders."""
    stmt = select(Order.id).where(Order.number == number, live())
    if other_than is not None:
        stmt = stmt.where(Order.id != other_than)
    return (await session.execute(stmt.limit(1))).first() is not None


async def by_contracts(
    session: AsyncSession, contract_ids: Sequence[uuid.UUID], *, limit: int = PER_CONTRACT_LIMIT
) -> dict[uuid.UUID, list[Order]]:
    """Live orders of many contracts in one statement, latest first. Orders of a customer the
    viewer cannot see are left out, as everywhere."""
    grouped = await records.by_parents(
        session,
        Order,
        Order.contract_id,
        contract_ids,
        order_by=(Order.ordered_on.desc(), Order.id.desc()),
        limit=limit,
    )
    return grouped


async def _of_orders(
    session: AsyncSession, model: Any, order_ids: Sequence[uuid.UUID], order_by: Sequence[Any]
) -> dict[uuid.UUID, list[Any]]:
    grouped: dict[uuid.UUID, list[Any]] = {i: [] for i in order_ids}
    stmt = select(model).where(model.order_id.in_(order_ids)).order_by(*order_by)
    for row in (await session.execute(stmt)).scalars():
        grouped[row.order_id].append(row)
    return grouped


async def lines_by_orders(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OrderLine]]:
    """Every line of many orders in one statement (an order holds at most MAX_LINES)."""
    return await _of_orders(session, OrderLine, order_ids, (OrderLine.order_id, OrderLine.position))


async def payments_by_orders(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OrderPayment]]:
    return await _of_orders(
        session, OrderPayment, order_ids, (OrderPayment.paid_on, OrderPayment.created_at)
    )


async def refunds_by_orders(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OrderRefund]]:
    return await _of_orders(
        session, OrderRefund, order_ids, (OrderRefund.refunded_on, OrderRefund.created_at)
    )


def visible_order_ids(scope: DataScope | None) -> Any:
    return select(Order.id).where(live(), visible(scope))


__all__ = [
    "PER_CONTRACT_LIMIT",
    "PER_CUSTOMER_LIMIT",
    "base_select",
    "by_contracts",
    "by_customers",
    "get",
    "get_many",
    "lines_by_orders",
    "live",
    "number_taken",
    "payments_by_orders",
    "refunds_by_orders",
    "visible",
    "visible_order_ids",
]
