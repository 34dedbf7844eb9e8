"""Requirement analysis batch functions for the per-request loaders (``crm_api.loaders``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal
from crm_core.requirements import repository
from crm_core.requirements.models import RequirementAnalysis


async def requirement_analyses_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[RequirementAnalysis | None]:
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]
