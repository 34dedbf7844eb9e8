"""The scheduler process: fans periodic work out as one message per tenant.

Time is cut into fixed periods (``CRM_WORKER__CLEANSING_INTERVAL_SECONDS``, aligned on the Unix
epoch so every scheduler computes the same boundaries). For each period the first scheduler to
``SET <namespace>:scheduler:<job>:<period> NX PX`` in Redis sends the messages; the others see the
key and skip, so running two schedulers (a rolling deploy, a spare replica) never doubles the work.
If the fan-out fails the key is released so the next attempt in the same period can do it.

One message per tenant keeps a slow or huge tenant from delaying the others, and lets the actors
check, each time, that the tenant is still active.

Deployments run one replica (the Helm chart's scheduler Deployment has ``replicas: 1`` and the
``Recreate`` strategy); the Redis lock above is what makes a second one harmless anyway.

Health: with ``CRM_WORKER__HEALTH_PORT`` set, ``/healthz`` answers 200 while the event loop beats
(a loop stuck for a minute is restarted) and ``/readyz`` checks PostgreSQL, Redis and migrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis

from crm_core.backups.retention import fan_out as backup_fan_out
from crm_core.cleansing.tasks import CLEANSE_TENANT, QUEUE
from crm_core.db.engine import Database
from crm_core.health import start_health_server
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import Dispatcher, OutgoingMessage
from crm_core.settings import Settings, load_settings
from crm_core.surveys.tasks import fan_out as survey_fan_out
from crm_core.telemetry import setup_telemetry
from crm_core.tenants import repository
from crm_core.tenants.models import TenantStatus
from crm_worker.main import configure_logging
from crm_worker.maintenance import maintain

log = logging.getLogger("crm_worker.scheduler")

CLEANSING_JOB = "cleansing"
# After a failed fan-out (database or Redis down), try again this soon, not a whole period later.
RETRY_SECONDS = 30.0
_OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def period_key(namespace: str, job: str, period: int) -> str:
    return f"{namespace}:scheduler:{job}:{period}"


async def active_tenant_ids(db: Database) -> list[uuid.UUID]:
    """Tenants whose work should run: active (not suspended or deleted) and provisioned."""
    async with db.core_session() as session:
        tenants = await repository.list_all(session)
    return [
        t.id for t in tenants if t.status is TenantStatus.active and t.provisioned_at is not None
    ]


def _send_all(dispatcher: Dispatcher, tenant_ids: Sequence[uuid.UUID]) -> None:
    for tenant_id in tenant_ids:
        dispatcher.send(OutgoingMessage(CLEANSE_TENANT, QUEUE, {"tenant_id": str(tenant_id)}))


async def fan_out_once(
    *,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    namespace: str,
    interval_seconds: int,
    now: float | None = None,
) -> int | None:
    """Send this period's messages unless someone already did; returns how many, or None."""
    period = int((time.time() if now is None else now) // interval_seconds)
    key = period_key(namespace, CLEANSING_JOB, period)
    # The key outlives the period it names, so a late scheduler in the same period still sees it.
    if not await redis.set(key, _OWNER, nx=True, px=interval_seconds * 1000 + 60_000):
        return None
    try:
        tenant_ids = await active_tenant_ids(db)
        # Broker sends are blocking Redis calls: keep them off the loop that watches for signals.
        await asyncio.to_thread(_send_all, dispatcher, tenant_ids)
    except BaseException:
        # Partly sent is fine (the actors are idempotent); not retrying at all would skip a period.
        if await redis.get(key) == _OWNER.encode():
            await redis.delete(key)
        raise
    log.info("period %d: sent %s to %d tenants", period, CLEANSE_TENANT, len(tenant_ids))
    return len(tenant_ids)


async def serve(
    settings: Settings, stop: asyncio.Event, *, db: Database, redis: Redis, dispatcher: Dispatcher
) -> None:
    interval = settings.worker.cleansing_interval_seconds
    while not stop.is_set():
        try:
            await fan_out_once(
                db=db,
                redis=redis,
                dispatcher=dispatcher,
                namespace=settings.worker.namespace,
                interval_seconds=interval,
            )
            # Scheduled backups: one message per tenant per backup period (checked each wake-up).
            await backup_fan_out(
                db=db,
                redis=redis,
                dispatcher=dispatcher,
                namespace=settings.worker.namespace,
                interval_seconds=settings.backups.interval_seconds,
            )
            # Surveys: each tenant's scan (expiry, one reminder, periodic sends) once a period.
            await survey_fan_out(
                db=db,
                redis=redis,
                dispatcher=dispatcher,
                namespace=settings.worker.namespace,
                interval_seconds=settings.surveys.scan_interval_seconds,
            )
            # Sleep to just past the next boundary; waking a hair early only costs a skipped SET.
            wait = interval - (time.time() % interval) + 0.05
        except Exception:
            log.exception("cleansing fan-out failed; retrying in %.0f s", RETRY_SECONDS)
            wait = min(RETRY_SECONDS, float(interval))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)


BEAT_SECONDS = 5.0
STUCK_AFTER_SECONDS = 60.0


async def _beat(beats: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        beats[0] = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=BEAT_SECONDS)


async def _main(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    telemetry = setup_telemetry(settings, service_name="crm-scheduler")
    db = Database.create(settings)
    telemetry.instrument_engine(db.engine)
    redis = Redis.from_url(settings.require_redis_url())
    broker = build_broker(settings)
    beats = [time.monotonic()]

    def liveness() -> dict[str, object]:
        age = time.monotonic() - beats[0]
        ok = age < STUCK_AFTER_SECONDS
        return {"status": "ok" if ok else "failing", "loop_beat_age_s": round(age, 1)}

    beater = asyncio.create_task(_beat(beats, stop))
    # Outbox relay, job and mail sweeps, per-tenant schedules (crm_worker.maintenance).
    upkeep = asyncio.create_task(
        maintain(
            settings, stop, db=db, redis=redis, dispatcher=BrokerDispatcher(broker), owner=_OWNER
        )
    )
    health = start_health_server(settings, role="scheduler", liveness=liveness)
    log.info("scheduler started: cleansing every %d s", settings.worker.cleansing_interval_seconds)
    try:
        await serve(settings, stop, db=db, redis=redis, dispatcher=BrokerDispatcher(broker))
    finally:
        stop.set()
        await beater
        await upkeep
        if health is not None:
            await asyncio.to_thread(health.stop)
        broker.close()
        await redis.aclose()
        await db.dispose()
        telemetry.shutdown()
    log.info("scheduler stopped")
    return 0


def run(settings: Settings | None = None) -> int:
    """Run the scheduler until SIGTERM/SIGINT; returns the process exit code."""
    settings = settings or load_settings()
    configure_logging(settings, "crm-scheduler")
    return asyncio.run(_main(settings))


if __name__ == "__main__":
    raise SystemExit(run())
