"""Product batch functions for the per-request loaders (``crm_api.loaders``); each batch opens its
own short session. The catalogue has no data scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.products import repository
from crm_core.products.models import Product


async def products_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Product | None]:
    """Live products (``product(id)``, ``node``)."""
    async with tdb.read() as session:
        found = {p.id: p for p in await repository.get_many(session, ids)}
    return [found.get(i) for i in ids]


async def line_products_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Product | None]:
    """Deleted ones too: a line keeps naming the product it offered."""
    async with tdb.read() as session:
        found = {p.id: p for p in await repository.get_many(session, ids, include_deleted=True)}
    return [found.get(i) for i in ids]
