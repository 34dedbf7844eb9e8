"""Activity batch functions for the per-request DataLoaders (registered in ``crm_api.loaders``).
Each opens its own short session; keys with a limit are ``(parent id, limit)``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from crm_core.activities import repository
from crm_core.activities.models import Activity, ActivityAttendee
from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal


async def by_parent_with_limit(
    tdb: TenantDatabase,
    keys: Sequence[tuple[uuid.UUID, int]],
    fetch: Callable[..., Awaitable[dict[uuid.UUID, list[Any]]]],
    **kwargs: Any,
) -> list[list[Any]]:
    """One statement per distinct limit in the batch (one, unless aliases ask for more)."""
    found: dict[tuple[uuid.UUID, int], list[Any]] = {}
    async with tdb.read() as session:
        for limit in sorted({limit for _, limit in keys}):
            ids = list(dict.fromkeys(pid for pid, lim in keys if lim == limit))
            grouped = await fetch(session, ids, limit=limit, **kwargs)
            found.update({(pid, limit): grouped.get(pid, []) for pid in ids})
    return [found[k] for k in keys]


async def activities_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Activity | None]:
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def attendees_by_activity(
    tdb: TenantDatabase, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[ActivityAttendee]]:
    """Only attendees whose customer is in the viewer's data scope."""
    return await by_parent_with_limit(
        tdb, keys, repository.attendees_by_activities, scope=principal.data_scope
    )


async def attendee_counts(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[int]:
    async with tdb.read() as session:
        counts = await repository.seats_taken(session, ids)
    return [counts.get(i, 0) for i in ids]


async def activities_by_customer(
    tdb: TenantDatabase, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[Activity]]:
    """Keys are customers the viewer already loaded through a scoped path."""
    return await by_parent_with_limit(tdb, keys, repository.by_customers)


async def attendees_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[ActivityAttendee | None]:
    """Only attendees whose customer is in the viewer's data scope."""
    async with tdb.read() as session:
        rows = await repository.get_attendees(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]
