"""Tag batch functions for the per-request DataLoaders (registered in ``crm_api.loaders``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.tags import repository
from crm_core.tags.models import Tag


async def tags_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Tag | None]:
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def customer_counts(
    tdb: TenantDatabase, principal: Principal, names: Sequence[str]
) -> list[int]:
    """Customers per tag name in the viewer's data scope: one statement for a page of tags."""
    async with tdb.read() as session:
        counts = await repository.customer_counts(session, names, scope=principal.data_scope)
    return [counts.get(n, 0) for n in names]


async def tags_by_name(
    tdb: TenantDatabase, principal: Principal, names: Sequence[str]
) -> list[Tag | None]:
    """Keyed by lower-cased name: the catalogue entry of a tag a customer carries, if any."""
    async with tdb.read() as session:
        rows = await repository.get_by_names(session, names)
    found = {r.name.lower(): r for r in rows}
    return [found.get(n.lower()) for n in names]
