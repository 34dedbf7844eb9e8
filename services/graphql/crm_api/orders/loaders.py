"""Batch functions behind the order loaders (registered in ``crm_api.loaders``). Each opens its
own short session; lookups by id apply the viewer's data scope. Lines, payments and refunds are
loaded for orders the viewer already holds (scoped), so only the parent ids matter."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.orders import repository
from crm_core.orders.models import Order, OrderLine, OrderPayment, OrderRefund


async def orders_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Order | None]:
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def orders_by_contract(
    tdb: TenantDatabase, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[Order]]:
    """Keyed by (contract id, limit): one statement per distinct limit in the batch."""
    found: dict[tuple[uuid.UUID, int], list[Order]] = {}
    async with tdb.read() as session:
        for limit in sorted({limit for _, limit in keys}):
            ids = list(dict.fromkeys(cid for cid, lim in keys if lim == limit))
            grouped = await repository.by_contracts(session, ids, limit=limit)
            found.update({(cid, limit): grouped.get(cid, []) for cid in ids})
    return [found[k] for k in keys]


async def lines_by_order(tdb: TenantDatabase, ids: Sequence[uuid.UUID]) -> list[list[OrderLine]]:
    async with tdb.read() as session:
        grouped = await repository.lines_by_orders(session, ids)
    return [grouped.get(i, []) for i in ids]


async def payments_by_order(
    tdb: TenantDatabase, ids: Sequence[uuid.UUID]
) -> list[list[OrderPayment]]:
    async with tdb.read() as session:
        grouped = await repository.payments_by_orders(session, ids)
    return [grouped.get(i, []) for i in ids]


async def refunds_by_order(
    tdb: TenantDatabase, ids: Sequence[uuid.UUID]
) -> list[list[OrderRefund]]:
    async with tdb.read() as session:
        grouped = await repository.refunds_by_orders(session, ids)
    return [grouped.get(i, []) for i in ids]
