"""GraphQL: a tenant admin's backups (``settings:manage``).

``createBackup`` and ``restoreBackup`` queue jobs (see ``job(id)``); ``verifyBackup`` checks the
files against the manifest now. Every look-up is by the caller's tenant: another company's backup
id answers as a missing one.
"""

from __future__ import annotations

import datetime
import uuid

import strawberry

from crm_api.context import Info
from crm_api.errors import UserError, as_graphql_errors, user_errors
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id, to_global_id
from crm_core.backups import requests, restore, service
from crm_core.backups.models import Backup as Row
from crm_core.errors import DomainError

TYPE_NAME = "Backup"
PERMISSION = service.PERMISSION


@strawberry.type(description="A logical backup of the company's data.")
class Backup:
    id: strawberry.ID
    status: str = strawberry.field(
        description="queued, running, succeeded, failed or deleted (by retention)."
    )
    trigger: str = strawberry.field(description="manual or scheduled.")
    storage: str
    size_bytes: float | None
    tables: int | None
    row_count: float | None
    schema_revision: str | None
    error: str | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    expires_at: datetime.datetime | None = strawberry.field(
        description="Retention does not delete it before then."
    )

    @classmethod
    def from_model(cls, row: Row) -> Backup:
        return cls(
            id=strawberry.ID(to_global_id(TYPE_NAME, row.id)),
            status=row.status.value,
            trigger=row.trigger,
            storage=row.storage,
            size_bytes=float(row.size_bytes) if row.size_bytes is not None else None,
            tables=row.tables,
            row_count=float(row.row_count) if row.row_count is not None else None,
            schema_revision=row.schema_revision,
            error=row.error,
            created_at=row.created_at,
            finished_at=row.finished_at,
            expires_at=row.expires_at,
        )


@strawberry.type
class BackupJobPayload:
    backup: Backup | None
    job_id: strawberry.ID | None = strawberry.field(description="The job doing the work.")
    errors: list[UserError]


@strawberry.type
class VerifyBackupPayload:
    ok: bool
    problems: list[str] = strawberry.field(description="What does not match, if anything.")
    tables: int
    row_count: float
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect=TYPE_NAME)[1]


def _job_id(job_id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(to_global_id("Job", job_id))


@strawberry.type
class BackupQueries:
    @strawberry.field(
        description="The company's backups, newest first.", extensions=requires(PERMISSION)
    )
    async def backups(self, info: Info, first: int = 20) -> list[Backup]:
        ctx = info.context
        principal = ctx.require_principal()
        rows = await as_graphql_errors(
            lambda: service.list_backups(ctx.app.db, principal.tenant.id, limit=min(first, 100))
        )
        return [Backup.from_model(r) for r in rows]


@strawberry.type
class BackupMutations:
    @strawberry.mutation(
        description="Back up the company's data now (a job).", extensions=requires(PERMISSION)
    )
    async def create_backup(self, info: Info) -> BackupJobPayload:
        settings = info.context.app.settings
        done, errors = await run(info, lambda s, p: requests.create(s, settings, p), prefix="")
        if done is None:
            return BackupJobPayload(backup=None, job_id=None, errors=errors)
        return BackupJobPayload(
            backup=Backup.from_model(done.backup), job_id=_job_id(done.job.id), errors=[]
        )

    @strawberry.mutation(
        description="Replace ALL of the company's data with this backup (a job). `confirm` must "
        "repeat the company's slug.",
        extensions=requires(PERMISSION),
    )
    async def restore_backup(self, info: Info, id: strawberry.ID, confirm: str) -> BackupJobPayload:
        try:
            backup_id = _pk(id)
        except DomainError as exc:
            return BackupJobPayload(backup=None, job_id=None, errors=user_errors(exc, prefix=""))
        done, errors = await run(
            info, lambda s, p: requests.restore(s, p, backup_id, confirm=confirm), prefix=""
        )
        if done is None:
            return BackupJobPayload(backup=None, job_id=None, errors=errors)
        return BackupJobPayload(
            backup=Backup.from_model(done.backup), job_id=_job_id(done.job.id), errors=[]
        )

    @strawberry.mutation(
        description="Check the backup's files against its manifest and checksums.",
        extensions=requires(PERMISSION),
    )
    async def verify_backup(self, info: Info, id: strawberry.ID) -> VerifyBackupPayload:
        ctx = info.context
        try:
            report = await restore.verify(
                ctx.app.db, ctx.app.settings, _pk(id), tenant_id=ctx.require_principal().tenant.id
            )
        except DomainError as exc:
            return VerifyBackupPayload(
                ok=False, problems=[], tables=0, row_count=0, errors=user_errors(exc, prefix="")
            )
        return VerifyBackupPayload(
            ok=report.ok,
            problems=report.problems,
            tables=report.tables,
            row_count=float(report.rows),
            errors=[],
        )
