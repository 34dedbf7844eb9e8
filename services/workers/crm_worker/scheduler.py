"""The scheduler process: fans periodic work out as one message per tenant.

It wakes every ``CRM_WORKER__SCHEDULER_TICK_SECONDS`` (60 by default, aligned on the Unix epoch so
every scheduler computes the same ticks), so a company's schedule is honoured to the minute:

* **per-tenant schedules** (``crm_core.schedules``): the backup, whole-tenant cleansing, the
  duplicate scan and the shared pool's reclaim, each when the company's own schedule (tenant
  settings ``schedules``, in its time zone) says it is due, as a job (``jobs`` row, visible to the
  company's admins) with an idempotency key per slot;
* **survey scans**: once per their global period (``CRM_SURVEYS__SCAN_INTERVAL_SECONDS``; each
  company's periodic sends follow its survey settings); the period's Redis key makes a tick in a
  period already done a single skipped ``SET``.

For each tick the first scheduler to ``SET <namespace>:scheduler:tick:<tick> NX PX`` checks the
schedules; the others skip it, so running two schedulers (a rolling deploy, a spare replica) never
doubles the work — and if both did, the unique idempotency key of each slot's job would still make
one job. If the fan-out fails the key is released so the next attempt in the same tick can do it.

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
from datetime import UTC, datetime

from redis.asyncio import Redis

from crm_core import schedules
from crm_core.db.engine import Database
from crm_core.health import start_health_server
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import Dispatcher
from crm_core.settings import Settings, load_settings
from crm_core.surveys.tasks import fan_out as survey_fan_out
from crm_core.telemetry import setup_telemetry
from crm_worker.main import configure_logging
from crm_worker.maintenance import maintain

log = logging.getLogger("crm_worker.scheduler")

TICK_JOB = "tick"
# After a failed fan-out (database or Redis down), try again this soon, not a whole tick later.
RETRY_SECONDS = 30.0
_OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def period_key(namespace: str, job: str, period: int) -> str:
    return f"{namespace}:scheduler:{job}:{period}"


async def active_tenant_ids(db: Database) -> list[uuid.UUID]:
    """Tenants whose work should run: active (not suspended or deleted) and provisioned."""
    return [t.ref.id for t in await schedules.active_tenants(db)]


async def tick_once(
    *,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    namespace: str,
    tick_seconds: int,
    now: float | None = None,
) -> dict[str, int] | None:
    """Check every tenant's schedules unless another scheduler has this tick; returns how many
    jobs of each schedule were queued, or None when the tick was someone else's."""
    at = time.time() if now is None else now
    tick = int(at // tick_seconds)
    key = period_key(namespace, TICK_JOB, tick)
    # The key outlives its tick, so a late scheduler in the same tick still sees it.
    if not await redis.set(key, _OWNER, nx=True, px=tick_seconds * 1000 + 60_000):
        return None
    try:
        sent = await schedules.fan_out_due(
            db=db,
            redis=redis,
            dispatcher=dispatcher,
            namespace=namespace,
            now=datetime.fromtimestamp(at, UTC),
        )
    except BaseException:
        # Each slot's job is idempotent, and not retrying at all would wait for the next tick.
        if await redis.get(key) == _OWNER.encode():
            await redis.delete(key)
        raise
    if any(sent.values()):
        log.info("tick %d: queued %s", tick, sent)
    return sent


async def serve(
    settings: Settings, stop: asyncio.Event, *, db: Database, redis: Redis, dispatcher: Dispatcher
) -> None:
    tick = settings.worker.scheduler_tick_seconds
    namespace = settings.worker.namespace
    while not stop.is_set():
        try:
            await tick_once(
                db=db, redis=redis, dispatcher=dispatcher, namespace=namespace, tick_seconds=tick
            )
            # Surveys: each tenant's scan (expiry, one reminder, periodic sends) once a period.
            await survey_fan_out(
                db=db,
                redis=redis,
                dispatcher=dispatcher,
                namespace=namespace,
                interval_seconds=settings.surveys.scan_interval_seconds,
            )
            # Sleep to just past the next tick; waking a hair early only costs a skipped SET.
            wait = tick - (time.time() % tick) + 0.05
        except Exception:
            log.exception("scheduler fan-out failed; retrying in %.0f s", RETRY_SECONDS)
            wait = min(RETRY_SECONDS, float(tick))
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
    log.info(
        "scheduler started: schedules checked every %d s", settings.worker.scheduler_tick_seconds
    )
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
