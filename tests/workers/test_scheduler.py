"""The scheduler process: a short tick for the per-tenant schedules (``test_schedules.py``) that
leaves the global once-per-period survey fan-out once per period, and stops promptly."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis as redis_lib
import redis.asyncio as aioredis
from crmtest import make_tenant

from crm_core.db.engine import Database
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.settings import Settings
from crm_core.surveys.tasks import fan_out as survey_fan_out
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Tenant, TenantStatus
from crm_worker.scheduler import active_tenant_ids, tick_once


def sent_tenant_ids(client: redis_lib.Redis, namespace: str, queue: str, actor: str) -> list[str]:
    messages = [json.loads(m) for m in client.hvals(f"{namespace}:{queue}.msgs")]
    return sorted(m["kwargs"]["tenant_id"] for m in messages if m["actor_name"] == actor)


@pytest.fixture
async def async_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(settings.require_redis_url())
    yield client
    await client.aclose()


async def test_short_tick_keeps_period_fan_outs_once_per_period(
    db: Database,
    settings: Settings,
    redis_namespace: str,
    redis_client: redis_lib.Redis,
    async_redis: aioredis.Redis,
    tenant_a: Any,
    tenant_b: Any,
) -> None:
    paused, _ = await tenants.create(db, tenants.TenantInput(slug="paused-s", name="Paused"))
    await tenants.set_status(db, paused.slug, TenantStatus.suspended)
    namespace = f"{redis_namespace}-s"
    broker = build_broker(settings, namespace=namespace)
    dispatcher = BrokerDispatcher(broker)
    common = {"db": db, "redis": async_redis, "dispatcher": dispatcher, "namespace": namespace}
    try:
        expected = sorted(str(t) for t in await active_tenant_ids(db))
        assert str(tenant_a.ref.id) in expected and str(tenant_b.ref.id) in expected
        assert str(paused.id) not in expected
        # An hour boundary in 2020, before any test company existed: no schedule is due.
        start = 3_600.0 * 440_000
        surveys, ticks = [], []
        # Two hours of one-minute ticks, as ``serve`` runs them.
        for minute in range(120):
            now = start + minute * 60 + 0.05
            ticks.append(await tick_once(**common, tick_seconds=60, now=now))
            surveys.append(await survey_fan_out(**common, interval_seconds=3_600, now=now))
        assert all(
            t == {"backup": 0, "cleansing": 0, "duplicate_scan": 0, "pool_reclaim": 0}
            for t in ticks
        )  # each tick is new
        assert [i for i, n in enumerate(surveys) if n is not None] == [0, 60]
        assert [n for n in surveys if n is not None] == [len(expected)] * 2
        # A second scheduler on the same tick and period does nothing.
        assert await tick_once(**common, tick_seconds=60, now=start + 30) is None
        assert await survey_fan_out(**common, interval_seconds=3_600, now=start + 30) is None
        scans = sent_tenant_ids(redis_client, namespace, "surveys", "surveys.scan_tenant")
        assert scans == sorted(expected * 2)
    finally:
        broker.close()


async def test_scheduler_process_sends_due_jobs_and_stops_promptly(
    db: Database, redis_namespace: str, redis_client: redis_lib.Redis, spawn: Any
) -> None:
    tenant = await make_tenant(db, "sched-proc")
    async with db.core_session() as session, session.begin():
        row = await session.get(Tenant, tenant.ref.id)
        assert row is not None
        # Created two days ago, cleansing every hour: its latest slot is due at the first tick.
        row.provisioned_at = datetime.now(UTC) - timedelta(days=2)
        row.settings = {**row.settings, "schedules": {"cleansing": {"frequency": "hourly"}}}
    namespace = f"{redis_namespace}-p"
    scheduler = spawn("crm_worker.scheduler", namespace, CRM_WORKER__SCHEDULER_TICK_SECONDS="60")
    deadline = time.monotonic() + 20
    actor = "cleansing.cleanse_customers"
    while str(tenant.ref.id) not in sent_tenant_ids(redis_client, namespace, "cleansing", actor):
        assert scheduler.proc.poll() is None, scheduler.log()
        assert time.monotonic() < deadline, scheduler.log()
        time.sleep(0.1)
    started = time.monotonic()
    scheduler.proc.send_signal(signal.SIGTERM)
    assert scheduler.proc.wait(timeout=10) == 0, scheduler.log()
    assert time.monotonic() - started < 3  # not a whole tick later
    assert "scheduler stopped" in scheduler.log()
