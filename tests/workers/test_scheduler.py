"""The scheduler: one whole-tenant cleansing message per active tenant and period, never twice."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis as redis_lib
import redis.asyncio as aioredis

from crm_core.db.engine import Database
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.settings import Settings
from crm_core.tenants import service as tenants
from crm_core.tenants.models import TenantStatus
from crm_worker.scheduler import active_tenant_ids, fan_out_once


def sent_tenant_ids(client: redis_lib.Redis, namespace: str) -> list[str]:
    messages = [json.loads(m) for m in client.hvals(f"{namespace}:cleansing.msgs")]
    assert {m["actor_name"] for m in messages} <= {"cleansing.cleanse_tenant"}
    return sorted(m["kwargs"]["tenant_id"] for m in messages)


@pytest.fixture
async def async_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(settings.require_redis_url())
    yield client
    await client.aclose()


async def test_one_fan_out_per_period_for_active_tenants(
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
    args = {
        "db": db,
        "redis": async_redis,
        "dispatcher": BrokerDispatcher(broker),
        "namespace": namespace,
        "interval_seconds": 60,
    }
    try:
        expected = sorted(str(t) for t in await active_tenant_ids(db))
        assert str(tenant_a.ref.id) in expected
        assert str(tenant_b.ref.id) in expected
        assert str(paused.id) not in expected
        assert await fan_out_once(**args, now=6_000_000.0) == len(expected)
        # A second scheduler (or a second tick) in the same period sends nothing.
        assert await fan_out_once(**args, now=6_000_059.0) is None
        assert sent_tenant_ids(redis_client, namespace) == expected
        # The next period is due again.
        assert await fan_out_once(**args, now=6_000_060.0) == len(expected)
        assert sent_tenant_ids(redis_client, namespace) == sorted(expected * 2)
    finally:
        broker.close()


def test_scheduler_process_fans_out_and_stops_promptly(
    db: Database, redis_namespace: str, redis_client: redis_lib.Redis, tenant_a: Any, spawn: Any
) -> None:
    namespace = f"{redis_namespace}-p"
    scheduler = spawn(
        "crm_worker.scheduler", namespace, CRM_WORKER__CLEANSING_INTERVAL_SECONDS="3600"
    )
    deadline = time.monotonic() + 20
    while str(tenant_a.ref.id) not in sent_tenant_ids(redis_client, namespace):
        assert scheduler.proc.poll() is None, scheduler.log()
        assert time.monotonic() < deadline, scheduler.log()
        time.sleep(0.1)
    started = time.monotonic()
    scheduler.proc.send_signal(signal.SIGTERM)
    assert scheduler.proc.wait(timeout=10) == 0, scheduler.log()
    assert time.monotonic() - started < 3  # not a whole period later
    assert "scheduler stopped" in scheduler.log()
