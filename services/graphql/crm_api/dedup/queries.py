"""Deduplication queries: the review queue, the check before a write, a merge, the settings."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from crm_api.context import Info
from crm_api.customers.types import Customer
from crm_api.dedup import inputs as I
from crm_api.dedup.types import (
    CustomerMerge,
    DedupSettings,
    DuplicateCandidate,
    DuplicateEvidence,
    DuplicateMatch,
)
from crm_api.errors import as_graphql_errors
from crm_api.inputs import input_data
from crm_api.permissions import requires
from crm_api.relay import Connection, connection_from_page, from_global_id
from crm_core.dedup import service
from crm_core.dedup.models import CandidateStatus
from crm_core.dedup.models import DuplicateCandidate as Row
from crm_core.dedup.models import DuplicateKind as KindRow
from crm_core.errors import DomainError, ErrorCode
from crm_core.query.listing import ListQuery, list_page
from crm_core.query.pagination import PageRequest, SortKey

MAX_PAGE = 100
COLUMNS = {"score": Row.score, "id": Row.id, "found_at": Row.found_at}


def _filter(f: I.DuplicateCandidateFilter | None) -> service.CandidateFilter:
    if f is None:
        return service.CandidateFilter()
    record_id = None
    if f.record_id is not None:
        record_id = from_global_id(str(f.record_id), field="filter.recordId")[1]
    if f.min_score is not None and not 0 <= f.min_score <= 1:
        raise DomainError.one("filter.minScore", ErrorCode.INVALID, "between 0 and 1")
    return service.CandidateFilter(
        kind=KindRow(f.kind.value) if f.kind is not None else None,
        status=CandidateStatus(f.status.value) if f.status is not None else None,
        min_score=f.min_score,
        record_id=record_id,
    )


@strawberry.type
class DedupQueries:
    @strawberry.field(
        description="The review queue of likely duplicates, best score first.",
        extensions=requires("customer:merge"),
    )
    async def duplicate_candidates(
        self,
        info: Info,
        filter: I.DuplicateCandidateFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[DuplicateCandidate]:
        ctx = info.context

        async def load() -> Connection[DuplicateCandidate]:
            principal = ctx.require_principal()
            base = service.candidates_select(principal, _filter(filter))
            async with ctx.tenant_db.read() as session:
                page = await list_page(
                    session,
                    base,
                    ListQuery(page=PageRequest(first=first, after=after)),
                    columns=COLUMNS,
                    default_order=(SortKey("score", descending=True),),
                    max_size=MAX_PAGE,
                )
            return connection_from_page(page, DuplicateCandidate.from_model)

        return await as_graphql_errors(load)

    @strawberry.field(
        description="Existing customers (in your scope) that the given data would duplicate, with "
        "scores and evidence: ask before createCustomer / updateCustomer.",
        extensions=requires("customer:create"),
    )
    async def customer_duplicates(
        self,
        info: Info,
        input: I.CustomerDuplicatesInput,
        exclude_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The customer being updated (not its own duplicate)."),
        ] = None,
        first: int = 10,
    ) -> list[DuplicateMatch]:
        ctx = info.context

        async def load() -> list[DuplicateMatch]:
            principal = ctx.require_principal()
            exclude = (
                from_global_id(str(exclude_id), field="excludeId", expect="Customer")[1]
                if exclude_id is not None
                else None
            )
            data: dict[str, Any] = input_data(input)
            async with ctx.tenant_db.read() as session:
                matches = await service.check_duplicates(
                    session,
                    principal,
                    data,
                    exclude_id=exclude,
                    default_region=ctx.settings.default_phone_region,
                    limit=max(1, min(first, service.MAX_MATCHES)),
                )
            mask = ctx.mask_personal
            return [
                DuplicateMatch(
                    customer=Customer.from_model(m.customer, mask),
                    score=m.score.score,
                    evidence=[DuplicateEvidence.from_evidence(e) for e in m.evidence],
                    blocked_on=m.blocked_on,
                )
                for m in matches
            ]

        return await as_graphql_errors(load)

    @strawberry.field(
        description="One merge (to see what moved, or to undo it).",
        extensions=requires("customer:merge"),
    )
    async def customer_merge(self, info: Info, id: strawberry.ID) -> CustomerMerge | None:
        ctx = info.context

        async def load() -> CustomerMerge | None:
            pk = from_global_id(str(id), expect="CustomerMerge")[1]
            async with ctx.tenant_db.read() as session:
                row = await service.get_merge(session, ctx.require_principal(), pk)
            return CustomerMerge.from_model(row) if row is not None else None

        return await as_graphql_errors(load)

    @strawberry.field(
        description="The company's deduplication settings.", extensions=requires("customer:merge")
    )
    async def dedup_settings(self, info: Info) -> DedupSettings:
        ctx = info.context
        async with ctx.tenant_db.read() as session:
            s = await service.get_settings(session, ctx.require_principal().tenant.id)
        return DedupSettings.from_settings(s)
