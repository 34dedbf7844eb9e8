"""Deduplication on the workers: ``dedup.scan_duplicates`` is a job (``crm_core.jobs``) that scans
the whole tenant in chunks (progress after each), then merges the pairs above the company's
automatic-merge threshold. Started from GraphQL (``startDuplicateScan``), the CLI
(``crm dedup scan``) or the scheduler (one per tenant and period, idempotency key per day).

Safe to run again: candidates are upserted per pair (decided pairs keep their decision), key
refreshes are idempotent, and each automatic merge is its own transaction.
"""

from __future__ import annotations

from typing import Any

from crm_core.dedup import service
from crm_core.jobs.runner import JobContext, JobFailed, job_actor

SCAN_DUPLICATES = "dedup.scan_duplicates"
QUEUE = "dedup"
PERMISSION = "customer:merge"


@job_actor(
    SCAN_DUPLICATES,
    max_retries=3,
    queue=QUEUE,
    time_limit_ms=6 * 3_600_000,
    permission=PERMISSION,
)
async def scan_duplicates(ctx: JobContext) -> dict[str, Any]:
    kinds = ctx.params.get("kinds") or list(service.KINDS)
    if not isinstance(kinds, list) or not set(kinds) <= set(service.KINDS):
        raise JobFailed(f"kinds must be a list of {', '.join(service.KINDS)}")
    result = await service.run_scan(
        ctx.db, ctx.tenant, kinds=kinds, report=ctx.report, cancelled=ctx.cancelled
    )
    return result.as_dict()
