"""Backup work on the workers.

``backups.create_backup`` and ``backups.restore_backup`` are jobs (``crm_core.jobs``): their state,
retries and dead letters are visible in the tenant's ``jobs``. A worker killed mid-backup leaves the
catalogue row ``running``, never ``succeeded``; the job's next attempt (the jobs sweep requeues a job
whose heartbeat stopped) takes the backup again from nothing. ``backups.scheduled`` is the job the
company's backup schedule starts: one backup per job (its id is the key), then retention.
"""

from __future__ import annotations

import uuid
from typing import Any

from crm_core.backups import restore, retention, service
from crm_core.backups.models import BackupStatus
from crm_core.db.engine import Database
from crm_core.errors import DomainError
from crm_core.jobs.runner import JobContext, JobFailed, job_actor
from crm_core.settings import Settings, load_settings

QUEUE = "backups"
CREATE_BACKUP = "backups.create_backup"
RESTORE_BACKUP = "backups.restore_backup"
SCHEDULED = "backups.scheduled"
TIME_LIMIT_MS = 4 * 3_600_000


def _context(ctx: JobContext) -> tuple[Database, Settings]:
    # A JobContext carries the tenant's session factory; core tables carry their schema, so the
    # tenant-bound engine serves the catalogue too. Settings are the worker's (the environment's
    # when a job runs outside one).
    engine = ctx.db.factory.kw["bind"]
    settings = ctx.runtime.settings if ctx.runtime is not None else load_settings()
    return Database(engine), settings


def _backup_id(ctx: JobContext) -> uuid.UUID:
    try:
        return uuid.UUID(str(ctx.params["backup_id"]))
    except (KeyError, ValueError) as exc:
        raise JobFailed("the job names no valid backup") from exc


@job_actor(CREATE_BACKUP, max_retries=2, queue=QUEUE, time_limit_ms=TIME_LIMIT_MS)
async def create_backup(ctx: JobContext) -> dict[str, Any]:
    db, settings = _context(ctx)
    backup_id = _backup_id(ctx)
    await service.get_backup(db, backup_id, tenant_id=ctx.tenant.id)  # this tenant's only
    done = await service.run_backup(db, settings, backup_id)
    if done is None:
        raise RuntimeError("another worker is taking this backup; trying again later")
    if done.status is not BackupStatus.succeeded:
        raise JobFailed(done.error or f"the backup ended {done.status.value}")
    return {
        "backup_id": str(done.id),
        "size_bytes": done.size_bytes,
        "tables": done.tables,
        "row_count": done.row_count,
    }


@job_actor(
    RESTORE_BACKUP,
    max_retries=0,  # all or nothing in one transaction: a failure is reported, not repeated
    queue=QUEUE,
    time_limit_ms=TIME_LIMIT_MS,
    permission=service.PERMISSION,
    notify_on_success=True,
)
async def restore_backup(ctx: JobContext) -> dict[str, Any]:
    db, settings = _context(ctx)
    try:
        result = await restore.restore_into_tenant(
            db,
            settings,
            _backup_id(ctx),
            confirm=str(ctx.params.get("confirm", "")),
            tenant_id=ctx.tenant.id,
        )
    except DomainError as exc:
        raise JobFailed(str(exc)) from exc
    return {"backup_id": str(result.backup_id), "tables": result.tables, "rows": result.rows}


@job_actor(SCHEDULED, max_retries=2, queue=QUEUE, time_limit_ms=TIME_LIMIT_MS)
async def scheduled_backup(ctx: JobContext) -> dict[str, Any]:
    """A run of the company's backup schedule: one backup per job (its id is the key), pruned
    by the company's retention after; nothing while its backup policy is off."""
    db, settings = _context(ctx)
    async with db.core_session() as session:
        if not await retention.enabled_for(session, settings, ctx.tenant.id):
            return {"skipped": "backups are off for this company"}
    done = await retention.scheduled_backup(db, settings, ctx.tenant, key=str(ctx.job_id))
    if done is None:
        raise RuntimeError("another worker is taking this backup; trying again later")
    if done.status is not BackupStatus.succeeded:
        raise JobFailed(done.error or f"the backup ended {done.status.value}")
    return {"backup_id": str(done.id), "size_bytes": done.size_bytes, "row_count": done.row_count}
