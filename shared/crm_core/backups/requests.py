"""What tenant admins ask for (GraphQL): each request writes its rows and its job in the caller's
transaction; the work itself runs on a worker (``crm_core.backups.tasks``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.backups import repository, service, tasks
from crm_core.backups.models import Backup, BackupStatus
from crm_core.errors import DomainError, ErrorCode, NotFound
from crm_core.identity.principal import Principal
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job
from crm_core.settings import Settings


@dataclass(frozen=True, slots=True)
class Requested:
    backup: Backup
    job: Job


async def create(session: AsyncSession, settings: Settings, principal: Principal) -> Requested:
    backup = await service.request_backup(
        session, settings, principal.tenant, created_by=principal.user_id
    )
    job = await jobs.enqueue(session, principal, tasks.CREATE_BACKUP, {"backup_id": str(backup.id)})
    return Requested(backup, job)


async def restore(
    session: AsyncSession, principal: Principal, backup_id: uuid.UUID, *, confirm: str
) -> Requested:
    """Checks what can be checked now (the backup is this tenant's and finished, the slug is
    repeated); the worker checks the files and the schema again before it changes anything."""
    backup = await repository.get_for_tenant(session, principal.tenant.id, backup_id)
    if backup is None:
        raise NotFound("id", "backup")
    if confirm != principal.tenant.slug:
        raise DomainError.one(
            "confirm", ErrorCode.INVALID, "type the company's slug to confirm the restore"
        )
    if backup.status is not BackupStatus.succeeded:
        raise DomainError.one(
            "id", ErrorCode.INVALID, f"the backup is {backup.status.value}, not restorable"
        )
    job = await jobs.enqueue(
        session,
        principal,
        tasks.RESTORE_BACKUP,
        {"backup_id": str(backup.id), "confirm": confirm},
    )
    return Requested(backup, job)
