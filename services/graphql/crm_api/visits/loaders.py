"""Visit batch functions for the per-request DataLoaders (registered in ``crm_api.loaders``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_api.activities.loaders import by_parent_with_limit
from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.visits import repository
from crm_core.visits.models import VisitPlan, VisitRecord


async def plans_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[VisitPlan | None]:
    async with tdb.read() as session:
        rows = await repository.plans.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def records_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[VisitRecord | None]:
    async with tdb.read() as session:
        rows = await repository.visit_records.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def records_by_plan(
    tdb: TenantDatabase, principal: Principal, plan_ids: Sequence[uuid.UUID]
) -> list[VisitRecord | None]:
    async with tdb.read() as session:
        found = await repository.records_by_plans(session, plan_ids, scope=principal.data_scope)
    return [found.get(i) for i in plan_ids]


async def plans_by_customer(
    tdb: TenantDatabase, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[VisitPlan]]:
    return await by_parent_with_limit(tdb, keys, repository.plans.by_customers)


async def records_by_customer(
    tdb: TenantDatabase, principal: Principal, keys: Sequence[tuple[uuid.UUID, int]]
) -> list[list[VisitRecord]]:
    return await by_parent_with_limit(tdb, keys, repository.visit_records.by_customers)
