"""The scheduler's upkeep loop, every ``CRM_JOBS__MAINTENANCE_INTERVAL_SECONDS``, per tenant:

* **outbox relay**: messages committed but not sent (the writer died between commit and send, or
  Redis was down) are sent, a chunk at a time (``crm_core.messaging.outbox.relay_pending``);
* **job sweep**: running jobs whose heartbeat went stale (their worker died) are requeued for their
  next attempt or dead-lettered; queued jobs whose message seems lost are sent again;
* **mail sweep**: mails left ``sending`` by a killed sender are sent again (same Message-ID);
* **per-tenant schedules**: the notification scan (``mail.scan_events``) once per tenant and
  period; a tenant sets its own period in ``settings.schedules.notifications_seconds``.

Only one scheduler does this at a time: it holds ``<namespace>:scheduler:upkeep`` in Redis (renewed
each round, expiring after three missed rounds). Each period's scan is also claimed per tenant with
``SET NX``, so even two loops would not fan out twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select

from crm_core.db.engine import Database
from crm_core.imports import service as imports
from crm_core.jobs import service as jobs
from crm_core.mail import sender as mail_sender
from crm_core.mail.outbox import QUEUE as MAIL_QUEUE
from crm_core.mail.tasks import SCAN_EVENTS
from crm_core.messaging.outbox import Dispatcher, OutgoingMessage, purge_sent, relay_pending
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Tenant, TenantStatus
from crm_worker.main import load_actor_modules

log = logging.getLogger("crm_worker.maintenance")

RELAY_ROUNDS = 20  # chunks per tenant per round: a backlog drains over rounds, fairly
PURGE_EVERY_SECONDS = 3_600.0


@dataclass(frozen=True, slots=True)
class TenantSchedule:
    ref: TenantRef
    settings: dict[str, Any]


def schedule_seconds(tenant_settings: dict[str, Any], name: str, default: int) -> int:
    """A tenant's period for ``name`` (``settings.schedules.<name>_seconds``), at least 10 s."""
    schedules = tenant_settings.get("schedules")
    value = schedules.get(f"{name}_seconds") if isinstance(schedules, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10:
        return value
    return default


async def active_tenants(db: Database) -> list[TenantSchedule]:
    async with db.core_session() as session:
        rows = await session.execute(
            select(Tenant.id, Tenant.slug, Tenant.settings)
            .where(Tenant.status == TenantStatus.active, Tenant.provisioned_at.is_not(None))
            .order_by(Tenant.id)
        )
        return [TenantSchedule(TenantRef(r.id, r.slug), dict(r.settings or {})) for r in rows]


async def _hold(redis: Redis, key: str, owner: str, ttl_ms: int) -> bool:
    if await redis.set(key, owner, nx=True, px=ttl_ms):
        return True
    if await redis.get(key) == owner.encode():
        await redis.pexpire(key, ttl_ms)
        return True
    return False


async def upkeep_tenant(
    settings: Settings,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    tenant: TenantSchedule,
    now: float,
) -> dict[str, int]:
    tdb = db.tenant(tenant.ref)
    cfg = settings.jobs
    relayed = 0
    for _ in range(RELAY_ROUNDS):
        n = await relay_pending(tdb, dispatcher, older_than_seconds=cfg.relay_after_seconds)
        relayed += n
        if n == 0:
            break
    swept = await jobs.sweep(
        tdb,
        stale_after_seconds=cfg.stale_after_seconds,
        requeue_queued_after_seconds=cfg.requeue_queued_after_seconds,
    )
    mails = await mail_sender.sweep(
        tdb,
        sending_stale_seconds=settings.mail.sending_stale_seconds,
        requeue_queued_after_seconds=cfg.requeue_queued_after_seconds,
    )
    scans = 0
    period_s = schedule_seconds(
        tenant.settings, "notifications", cfg.notifications_interval_seconds
    )
    period = int(now // period_s)
    key = f"{settings.worker.namespace}:scheduler:notifications:{tenant.ref.id}:{period}"
    if await redis.set(key, "1", nx=True, px=period_s * 1000 + 60_000):
        message = OutgoingMessage(SCAN_EVENTS, MAIL_QUEUE, {"tenant_id": str(tenant.ref.id)})
        await asyncio.to_thread(dispatcher.send, message)
        scans = 1
        # Import runs whose job ended where no handler saw it (dead-lettered by the sweep,
        # cancelled while queued) are ended too, and their staged rows dropped.
        async with tdb.transaction() as session:
            await imports.settle_ended_jobs(session)
    return {
        "relayed": relayed,
        "requeued": swept.requeued,
        "dead": swept.dead,
        "resent": swept.resent + mails,
        "scans": scans,
    }


async def upkeep_once(
    settings: Settings,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    tenants: Sequence[TenantSchedule] | None = None,
    now: float | None = None,
) -> dict[str, int]:
    totals: dict[str, int] = {}
    for tenant in tenants if tenants is not None else await active_tenants(db):
        try:
            counts = await upkeep_tenant(
                settings, db, redis, dispatcher, tenant, time.time() if now is None else now
            )
        except Exception:
            # One tenant's trouble (a schema mid-migration) must not stop the others' upkeep.
            log.exception("upkeep failed for tenant %s", tenant.ref.id)
            continue
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
    return totals


async def maintain(
    settings: Settings,
    stop: asyncio.Event,
    *,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    owner: str,
) -> None:
    # The sweep re-sends job messages: it needs every job kind's queue, declared by the actor
    # modules (importing them declares; nothing is bound to a broker here).
    load_actor_modules()
    interval = settings.jobs.maintenance_interval_seconds
    key = f"{settings.worker.namespace}:scheduler:upkeep"
    last_purge = 0.0
    while not stop.is_set():
        try:
            if await _hold(redis, key, owner, int(interval * 3000) + 1000):
                tenants = await active_tenants(db)
                totals = await upkeep_once(settings, db, redis, dispatcher, tenants)
                if any(v for k, v in totals.items() if k != "scans"):
                    log.info("upkeep: %s", totals)
                if time.monotonic() - last_purge > PURGE_EVERY_SECONDS:
                    last_purge = time.monotonic()
                    for tenant in tenants:
                        await purge_sent(db.tenant(tenant.ref))
        except Exception:
            log.exception("upkeep round failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
