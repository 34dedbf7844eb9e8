"""Lead batch functions for the per-request DataLoaders (registered in ``crm_api.loaders``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.leads import repository
from crm_core.leads.models import Lead


async def leads_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Lead | None]:
    """In the viewer's data scope: a lead of another owner reads as missing."""
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def leads_by_converted_customer(
    tdb: TenantDatabase, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[Lead]]:
    """Keyed by (customer id, per-customer limit): one statement per distinct limit."""
    found: dict[tuple[uuid.UUID, int], list[Lead]] = {}
    async with tdb.read() as session:
        for limit in sorted({limit for _, limit in keys}):
            ids = list(dict.fromkeys(cid for cid, lim in keys if lim == limit))
            grouped = await repository.by_converted_customers(
                session, ids, limit=limit, scope=principal.data_scope
            )
            found.update({(cid, limit): grouped.get(cid, []) for cid in ids})
    return [found[k] for k in keys]
