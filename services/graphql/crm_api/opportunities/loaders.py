"""Opportunity batch functions for the per-request loaders (``crm_api.loaders``). Lines and stage
history are only asked for opportunities the viewer already loaded through a scoped path."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.opportunities import repository
from crm_core.opportunities.models import (
    Opportunity,
    OpportunityProduct,
    OpportunityStageHistory,
)


async def opportunities_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Opportunity | None]:
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def lines_by_opportunity_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[list[OpportunityProduct]]:
    async with tdb.read() as session:
        grouped = await repository.lines_of(session, ids)
    return [grouped.get(i, []) for i in ids]


async def stage_history_by_opportunity_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[list[OpportunityStageHistory]]:
    async with tdb.read() as session:
        grouped = await repository.history_of(session, ids)
    return [grouped.get(i, []) for i in ids]
