"""Lifecycle history batch functions for the per-request DataLoaders (in ``crm_api.loaders``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_api.activities.loaders import by_parent_with_limit
from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.lifecycle import repository
from crm_core.lifecycle.models import CustomerLifecycleEvent


async def events_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[CustomerLifecycleEvent | None]:
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def events_by_customer(
    tdb: TenantDatabase, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[CustomerLifecycleEvent]]:
    """Keys are customers the viewer already loaded through a scoped path."""
    return await by_parent_with_limit(tdb, keys, repository.by_customers)
