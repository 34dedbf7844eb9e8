"""``exports.run_export``: one job per export; a retry writes a new file from the start (the
half-written one of a dead attempt was never recorded, its temporary file is removed)."""

from __future__ import annotations

from typing import Any

from crm_core.errors import DomainError
from crm_core.exports import service as exports
from crm_core.jobs.runner import JobContext, JobFailed, job_actor
from crm_core.settings import load_settings

QUEUE = "imports"


@job_actor(exports.KIND, max_retries=3, queue=QUEUE, time_limit_ms=3 * 3_600_000)
async def run_export(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.runtime.settings if ctx.runtime is not None else load_settings()
    try:
        async with ctx.db.transaction() as session:
            return await exports.write(
                session, ctx.principal, settings, ctx.tenant, ctx.params, ctx.report
            )
    except DomainError as exc:  # no longer allowed, or a filter that no longer compiles
        raise JobFailed(str(exc)) from exc
