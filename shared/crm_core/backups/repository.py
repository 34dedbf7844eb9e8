"""Queries on the backup catalogue (``core.backups``). Tenant-facing look-ups always filter by
tenant: another tenant's backup id answers exactly as a missing one does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.backups.models import Backup, BackupStatus


async def get(session: AsyncSession, backup_id: uuid.UUID) -> Backup | None:
    return await session.get(Backup, backup_id)


async def get_for_tenant(
    session: AsyncSession, tenant_id: uuid.UUID, backup_id: uuid.UUID
) -> Backup | None:
    stmt = select(Backup).where(Backup.id == backup_id, Backup.tenant_id == tenant_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_by_idempotency_key(
    session: AsyncSession, tenant_id: uuid.UUID, key: str
) -> Backup | None:
    stmt = select(Backup).where(Backup.tenant_id == tenant_id, Backup.idempotency_key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_for_tenant(
    session: AsyncSession,
    tenant_id: uuid.UUID | None,
    *,
    limit: int = 50,
    include_deleted: bool = False,
) -> Sequence[Backup]:
    """Newest first; ``tenant_id=None`` lists every tenant's (operators only)."""
    stmt = select(Backup).order_by(Backup.created_at.desc(), Backup.id.desc()).limit(limit)
    if tenant_id is not None:
        stmt = stmt.where(Backup.tenant_id == tenant_id)
    if not include_deleted:
        stmt = stmt.where(Backup.status != BackupStatus.deleted)
    return (await session.execute(stmt)).scalars().all()


async def succeeded_for_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[Backup]:
    stmt = (
        select(Backup)
        .where(Backup.tenant_id == tenant_id, Backup.status == BackupStatus.succeeded)
        .order_by(Backup.created_at.desc(), Backup.id.desc())
    )
    return (await session.execute(stmt)).scalars().all()


async def unfinished_before(
    session: AsyncSession, tenant_id: uuid.UUID | None, before: datetime
) -> Sequence[Backup]:
    stmt = select(Backup).where(
        Backup.status.in_((BackupStatus.queued, BackupStatus.running)),
        Backup.created_at < before,
    )
    if tenant_id is not None:
        stmt = stmt.where(Backup.tenant_id == tenant_id)
    return (await session.execute(stmt)).scalars().all()
