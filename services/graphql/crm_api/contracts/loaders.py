"""Batch functions behind the contract loaders (registered in ``crm_api.loaders``). Each opens its
own short session; lookups by id apply the viewer's data scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from crm_core.contracts import repository
from crm_core.contracts.models import Contract, ContractDelivery
from crm_core.db.engine import TenantDatabase
from crm_core.identity.principal import Principal


async def contracts_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Contract | None]:
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def deliveries_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[ContractDelivery | None]:
    async with tdb.read() as session:
        rows = await repository.get_deliveries(session, ids, scope=principal.data_scope)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def deliveries_by_contract(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[list[ContractDelivery]]:
    """Parents are contracts the viewer already holds (scoped), so only their liveness counts."""
    async with tdb.read() as session:
        grouped = await repository.deliveries_by_contracts(session, ids)
    return [grouped.get(i, []) for i in ids]
