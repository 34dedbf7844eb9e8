"""The shared pool's periodic work: customers nobody followed up for the company's
``reclaim_after_days`` go back to the pool (``service.reclaim_stale``), as a job.

Started by the company's ``pool_reclaim`` schedule (``crm_core.schedules``, daily by default);
admins reclaim on demand with ``reclaimStaleCustomers``. Each attempt fixes one instant (the
``now`` parameter, else its start) for all its chunks; each chunk is its own transaction, and a
reclaimed customer has no owner, so a retried attempt finds nothing again in the chunks already
done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crm_core.jobs.runner import JobContext, JobFailed, job_actor
from crm_core.pool import service

QUEUE = "pool"
RECLAIM = "pool.reclaim_stale"


@job_actor(RECLAIM, max_retries=3, queue=QUEUE, time_limit_ms=3_600_000)
async def reclaim_stale(ctx: JobContext) -> dict[str, Any]:
    at = ctx.params.get("now")
    try:
        now = datetime.fromisoformat(at) if isinstance(at, str) else datetime.now(UTC)
    except ValueError as exc:
        raise JobFailed("now must be an ISO date and time") from exc
    reclaimed = 0
    while True:
        async with ctx.db.transaction() as session:
            result = await service.reclaim_stale(session, ctx.tenant, now)
        reclaimed += len(result.reclaimed)
        await ctx.report(reclaimed)
        if not result.more or await ctx.cancelled():
            break
    return {"reclaimed": reclaimed, "as_of": now.isoformat()}
