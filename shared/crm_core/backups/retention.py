"""Scheduled backups and retention.

Each company's ``backup`` schedule (``crm_core.schedules``: daily at 00:30 in its time zone by
default) starts a ``backups.scheduled`` job per slot while its backup policy is enabled; the job's
id is the backup's idempotency key, so a job delivered twice or retried makes one backup. After
each scheduled backup the company's old backups are pruned by its policy (tenant settings
``backup``: ``enabled``, ``keep_daily``, ``keep_days``; see ``BackupPolicy``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.backups import repository, service
from crm_core.backups.models import Backup, BackupStatus
from crm_core.backups.schemas import BackupPolicy, policy_from
from crm_core.backups.storage import storage_for
from crm_core.db import backup_sql as pg
from crm_core.db.engine import Database
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Tenant

log = logging.getLogger(__name__)


def to_keep(backups: Sequence[Backup], policy: BackupPolicy, now: datetime) -> set[uuid.UUID]:
    """Which of a tenant's succeeded backups (newest first) retention keeps."""
    ordered = sorted(backups, key=lambda b: (b.created_at, str(b.id)), reverse=True)
    keep: set[uuid.UUID] = {ordered[0].id} if ordered else set()  # never the last good one
    days_seen: list[object] = []
    for b in ordered:
        day = b.created_at.astimezone(UTC).date()
        if day not in days_seen:
            days_seen.append(day)
            if len(days_seen) <= policy.keep_daily:
                keep.add(b.id)
        if b.created_at >= now - timedelta(days=policy.keep_days):
            keep.add(b.id)
    return keep


@dataclass
class PruneResult:
    deleted: list[uuid.UUID] = field(default_factory=list)
    abandoned: list[uuid.UUID] = field(default_factory=list)


async def prune(
    db: Database, settings: Settings, tenant_id: uuid.UUID, *, now: datetime | None = None
) -> PruneResult:
    """Delete the backups the tenant's policy no longer keeps (files first, then the row is
    marked ``deleted``), and mark abandoned ones failed."""
    now = now or datetime.now(UTC)
    result = PruneResult(abandoned=await sweep_abandoned(db, settings, tenant_id, now=now))
    async with db.core_session() as session:
        tenant = await session.get(Tenant, tenant_id)
        backups = await repository.succeeded_for_tenant(session, tenant_id)
    policy = policy_from(tenant.settings if tenant else {}, settings.backups)
    keep = to_keep(backups, policy, now)
    for b in backups:
        if b.id in keep:
            continue
        await storage_for(settings, b.location).delete(b.location)
        async with db.core_transaction() as session:
            await session.execute(
                update(Backup)
                .where(Backup.id == b.id, Backup.status == BackupStatus.succeeded)
                .values(status=BackupStatus.deleted)
            )
        result.deleted.append(b.id)
    if result.deleted:
        log.info("pruned %d backup(s) of tenant %s", len(result.deleted), tenant_id)
    return result


async def sweep_abandoned(
    db: Database, settings: Settings, tenant_id: uuid.UUID | None, *, now: datetime
) -> list[uuid.UUID]:
    """Backups still queued or running after ``stale_after_seconds`` whose process is gone (its
    advisory lock is free) are marked failed and their files removed."""
    before = now - timedelta(seconds=settings.backups.stale_after_seconds)
    async with db.core_session() as session:
        stale = await repository.unfinished_before(session, tenant_id, before)
    if not stale:
        return []
    swept = []
    conn = await pg.connect(settings.require_database_url())
    try:
        for b in stale:
            key = service.backup_lock(b.id)
            if not await pg.try_lock(conn, key):
                continue  # still being taken
            try:
                await storage_for(settings, b.location).delete(b.location)
                async with db.core_transaction() as session:
                    await session.execute(
                        update(Backup)
                        .where(
                            Backup.id == b.id,
                            Backup.status.in_((BackupStatus.queued, BackupStatus.running)),
                        )
                        .values(
                            status=BackupStatus.failed,
                            finished_at=now,
                            error="abandoned: its worker stopped before it finished",
                        )
                    )
                swept.append(b.id)
            finally:
                await pg.unlock(conn, key)
    finally:
        await conn.close()
    return swept


async def enabled_for(session: AsyncSession, settings: Settings, tenant_id: uuid.UUID) -> bool:
    """Whether the company's backup policy has scheduled backups on."""
    row = await session.get(Tenant, tenant_id)
    return row is not None and policy_from(row.settings or {}, settings.backups).enabled


async def scheduled_backup(
    db: Database, settings: Settings, tenant: TenantRef, *, key: str
) -> Backup | None:
    """What a scheduled run does for one tenant: back up (once per ``key``), then prune. None
    when backups are off for the company or another worker is taking this backup."""
    async with db.core_session() as session:
        if not await enabled_for(session, settings, tenant.id):
            return None
    async with db.core_transaction() as session:
        backup = await service.request_backup(
            session,
            settings,
            tenant,
            created_by=None,
            trigger="scheduled",
            idempotency_key=f"scheduled:{key}",
        )
    done = await service.run_backup(db, settings, backup.id)
    if done is not None and done.status is BackupStatus.succeeded:
        await prune(db, settings, tenant.id)
    return done
