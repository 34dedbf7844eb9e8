"""Jobs of the job machinery itself: ``jobs.selftest``, a canary that exercises the whole path
(enqueue → outbox → broker → worker → row) with steps, progress, optional failures and an audited
effect. Operators run it to check a deployment; the fault tests and ``bench/jobs.py`` use it."""

from __future__ import annotations

import asyncio
from typing import Any

from crm_core.audit import service as audit
from crm_core.jobs.runner import JobContext, JobFailed, job_actor

SELFTEST = "jobs.selftest"
MAX_STEPS = 10_000


@job_actor(SELFTEST, max_retries=3, queue="jobs", min_backoff_ms=200, max_backoff_ms=5_000)
async def selftest(ctx: JobContext) -> dict[str, Any]:
    """params: ``steps`` (1), ``step_ms`` (0), ``fail_attempts`` (fail the first N attempts),
    ``fail_permanently`` (end failed), ``effect`` (write one audit entry per completed run, in one
    transaction with nothing else: the duplicate-delivery tests count them)."""
    p = ctx.params
    steps = max(1, min(int(p.get("steps", 1)), MAX_STEPS))
    step_ms = max(0, min(int(p.get("step_ms", 0)), 60_000))
    if p.get("fail_permanently"):
        raise JobFailed("asked to fail (selftest)")
    if ctx.attempt <= int(p.get("fail_attempts", 0)):
        raise RuntimeError(f"asked to fail attempt {ctx.attempt} (selftest)")
    for done in range(1, steps + 1):
        if step_ms:
            await asyncio.sleep(step_ms / 1000)
        if await ctx.cancelled():
            return {"steps": done - 1, "cancelled": True}
        if steps > 1:
            await ctx.report(done, steps)
    if p.get("effect"):
        async with ctx.db.transaction() as session:
            audit.record(
                session, ctx.principal, "selftest", "job", ctx.job_id, {"attempt": ctx.attempt}
            )
    return {"steps": steps, "attempt": ctx.attempt}
