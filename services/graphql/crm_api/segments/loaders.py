"""Segment batch functions for the per-request DataLoaders (registered in ``crm_api.loaders``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from crm_api.customers.queries import LIST as CUSTOMERS
from crm_api.errors import graphql_error
from crm_core.db.engine import TenantDatabase
from crm_core.errors import DomainError
from crm_core.identity.principal import Principal
from crm_core.segments import repository, service
from crm_core.segments.models import Segment


async def segments_by_id(
    tdb: TenantDatabase, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Segment | None]:
    """Shared segments and the viewer's own; another's private segment reads as missing."""
    async with tdb.read() as session:
        rows = await repository.get_many(session, ids, principal)
    found = {r.id: r for r in rows}
    return [found.get(i) for i in ids]


async def customer_counts(
    tdb: TenantDatabase, principal: Principal, keys: Sequence[tuple[uuid.UUID, str]]
) -> list[int | Exception]:
    """Keyed by (segment id, its filter as canonical JSON): a page of segments is one statement.
    A segment the viewer may not evaluate answers with its error, the others with their counts."""
    async with tdb.read() as session:
        results = await service.customer_counts(
            session,
            principal,
            [json.loads(spec) for _, spec in keys],
            columns=CUSTOMERS.columns,
            personal=CUSTOMERS.personal,
        )
    return [graphql_error(r) if isinstance(r, DomainError) else r for r in results]
