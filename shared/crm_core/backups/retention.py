"""Scheduled backups and retention.

The scheduler sends each active tenant one ``backups.scheduled_backup`` message per period; the
period number is the backup's idempotency key, so a message delivered twice (or by two schedulers)
makes one backup. After each scheduled backup the tenant's old backups are pruned by its policy
(tenant settings ``backup``: ``enabled``, ``keep_daily``, ``keep_days``; see ``BackupPolicy``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import update

from crm_core.backups import repository, service
from crm_core.backups.models import Backup, BackupStatus
from crm_core.backups.schemas import BackupPolicy, policy_from
from crm_core.backups.storage import storage_for
from crm_core.db import backup_sql as pg
from crm_core.db.engine import Database
from crm_core.messaging.outbox import Dispatcher, OutgoingMessage
from crm_core.settings import BackupSettings, Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import Tenant, TenantStatus

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


async def scheduled_backup(
    db: Database, settings: Settings, tenant: TenantRef, *, period: int
) -> Backup | None:
    """What the scheduler's message does for one tenant and period: back up (once), then prune."""
    async with db.core_session() as session:
        row = await session.get(Tenant, tenant.id)
    if row is None or not policy_from(row.settings or {}, settings.backups).enabled:
        return None
    async with db.core_transaction() as session:
        backup = await service.request_backup(
            session,
            settings,
            tenant,
            created_by=None,
            trigger="scheduled",
            idempotency_key=f"scheduled:{period}",
        )
    done = await service.run_backup(db, settings, backup.id)
    if done is not None and done.status is BackupStatus.succeeded:
        await prune(db, settings, tenant.id)
    return done


async def fan_out(
    *,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    namespace: str,
    interval_seconds: int,
    now: float | None = None,
) -> int | None:
    """The scheduler's part: once per period (the first scheduler to claim the period's Redis key)
    send each active tenant with backups enabled one ``backups.scheduled_backup`` message.
    Returns how many were sent, or None when this period was already done."""
    from crm_core.backups.tasks import QUEUE, SCHEDULED_BACKUP

    period = int((time.time() if now is None else now) // interval_seconds)
    key = f"{namespace}:scheduler:backups:{period}"
    if not await redis.set(key, "1", nx=True, px=interval_seconds * 1000 + 60_000):
        return None
    try:
        async with db.core_session() as session:
            rows = await tenants_repo.list_all(session)
        messages = [
            OutgoingMessage(SCHEDULED_BACKUP, QUEUE, {"tenant_id": str(t.id), "period": period})
            for t in rows
            if t.status is TenantStatus.active
            and t.provisioned_at is not None
            and policy_from(t.settings or {}, BackupSettings()).enabled
        ]
        await asyncio.to_thread(_send_all, dispatcher, messages)
    except BaseException:
        await redis.delete(key)  # partly sent is fine (idempotent); skipping a period is not
        raise
    return len(messages)


def _send_all(dispatcher: Dispatcher, messages: list[OutgoingMessage]) -> None:
    for message in messages:
        dispatcher.send(message)
