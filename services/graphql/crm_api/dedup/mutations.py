"""Deduplication mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import re
import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.customers.types import Customer
from crm_api.dedup import inputs as I
from crm_api.dedup.types import CustomerMerge, DedupSettings, DuplicateCandidate
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id, to_global_id
from crm_core.dedup import merge as merging
from crm_core.dedup import service
from crm_core.dedup.models import CustomerMerge as MergeRow
from crm_core.dedup.models import DuplicateCandidate as CandidateRow
from crm_core.dedup.schemas import DedupSettings as SettingsModel
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import Principal

MAX_CHOICES = 40


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@strawberry.type
class DismissDuplicatePayload:
    candidate: DuplicateCandidate | None
    errors: list[UserError]


@strawberry.type
class MergeCustomersPayload:
    merge: CustomerMerge | None
    survivor: Customer | None
    errors: list[UserError]


@strawberry.type
class UndoMergePayload:
    merge: CustomerMerge | None
    survivor: Customer | None
    restored: Customer | None = strawberry.field(description="The merged customer, back again.")
    kept_fields: list[str] = strawberry.field(
        description="Survivor fields the merge had set and someone changed since: left as they are."
    )
    errors: list[UserError]


@strawberry.type
class DedupSettingsPayload:
    dedup_settings: DedupSettings | None
    errors: list[UserError]


@strawberry.type
class StartDuplicateScanPayload:
    job_id: strawberry.ID | None = strawberry.field(description="Follow it with `job(id)`.")
    errors: list[UserError]


@strawberry.type
class DedupMutations:
    @strawberry.mutation(
        description="Not duplicates: the pair leaves the queue for good.",
        extensions=requires("customer:merge"),
    )
    async def dismiss_duplicate(self, info: Info, id: strawberry.ID) -> DismissDuplicatePayload:
        async def work(session: AsyncSession, who: Principal) -> CandidateRow:
            pk = from_global_id(str(id), expect="DuplicateCandidate")[1]
            return await service.dismiss(session, who, pk)

        row, errors = await run(info, work, prefix="")
        return DismissDuplicatePayload(
            candidate=DuplicateCandidate.from_model(row) if row is not None else None,
            errors=errors,
        )

    @strawberry.mutation(
        description="Merge `mergedId` into `survivorId` in one transaction: the survivor takes "
        "field values by the rules (non-empty wins, newer contact data wins, notes joined, tags "
        "united, furthest lifecycle stage, the survivor's owner unless it has none) and your "
        "choices; every related record moves to it; the merged customer becomes a tombstone "
        "(`customer`/`node` on its id answer null). Undo with `undoMerge` within the company's "
        "window.",
        extensions=requires("customer:merge"),
    )
    async def merge_customers(
        self,
        info: Info,
        survivor_id: strawberry.ID,
        merged_id: strawberry.ID,
        choices: list[I.MergeChoice] | None = None,
    ) -> MergeCustomersPayload:
        async def work(session: AsyncSession, who: Principal) -> MergeRow:
            survivor = from_global_id(str(survivor_id), field="survivorId", expect="Customer")[1]
            merged = from_global_id(str(merged_id), field="mergedId", expect="Customer")[1]
            bounded(choices or [], MAX_CHOICES, "choices")
            parsed = [
                merging.Choice(_snake(c.field), merging.Side(c.from_.value)) for c in choices or []
            ]
            return await service.merge(session, who, survivor, merged, parsed)

        row, errors = await run(info, work, prefix="")
        survivor = None
        if row is not None:
            loaded = await info.context.loaders.customer_by_id.load(row.survivor_id)
            survivor = Customer.from_model(loaded, info.context.mask_personal) if loaded else None
        return MergeCustomersPayload(
            merge=CustomerMerge.from_model(row) if row is not None else None,
            survivor=survivor,
            errors=errors,
        )

    @strawberry.mutation(
        description="Undo a merge: the rows that moved go back, the merged customer returns, the "
        "survivor's fields the merge set return unless changed since. Refused when a moved row "
        "was moved elsewhere or deleted since, or after the company's undo window.",
        extensions=requires("customer:merge"),
    )
    async def undo_merge(self, info: Info, merge_id: strawberry.ID) -> UndoMergePayload:
        async def work(session: AsyncSession, who: Principal) -> merging.UndoResult:
            pk = from_global_id(str(merge_id), field="mergeId", expect="CustomerMerge")[1]
            return await service.undo(session, who, pk)

        result, errors = await run(info, work, prefix="")
        mask = info.context.mask_personal
        if result is None:
            return UndoMergePayload(
                merge=None, survivor=None, restored=None, kept_fields=[], errors=errors
            )
        return UndoMergePayload(
            merge=CustomerMerge.from_model(result.merge),
            survivor=Customer.from_model(result.survivor, mask),
            restored=Customer.from_model(result.restored, mask),
            kept_fields=result.kept_fields,
            errors=errors,
        )

    @strawberry.mutation(
        description="Change the company's deduplication settings.",
        extensions=requires("settings:manage"),
    )
    async def set_dedup_settings(
        self, info: Info, input: I.DedupSettingsInput
    ) -> DedupSettingsPayload:
        async def work(session: AsyncSession, who: Principal) -> SettingsModel:
            return await service.set_settings(session, who, input_data(input))

        s, errors = await run(info, work)
        return DedupSettingsPayload(
            dedup_settings=DedupSettings.from_settings(s) if s is not None else None, errors=errors
        )

    @strawberry.mutation(
        description="Scan the whole company for duplicates in the background (a job); at most "
        "one scan a minute is started, a second call answers the same job.",
        extensions=requires("customer:merge"),
    )
    async def start_duplicate_scan(
        self, info: Info, kinds: list[str] | None = None
    ) -> StartDuplicateScanPayload:
        from crm_core.dedup import tasks
        from crm_core.jobs import service as jobs

        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            chosen = kinds or list(service.KINDS)
            bad = [k for k in chosen if k not in service.KINDS]
            if bad:
                raise DomainError.one(
                    "kinds", ErrorCode.INVALID, f"one of {', '.join(service.KINDS)}"
                )
            from datetime import UTC, datetime

            minute = datetime.now(UTC).strftime("%Y%m%d%H%M")
            job = await jobs.enqueue(
                session,
                who,
                tasks.SCAN_DUPLICATES,
                {"kinds": sorted(set(chosen))},
                idempotency_key=f"dedup-scan:{minute}",
            )
            return job.id

        job_id, errors = await run(info, work, prefix="")
        return StartDuplicateScanPayload(
            job_id=strawberry.ID(to_global_id("Job", job_id)) if job_id else None, errors=errors
        )
