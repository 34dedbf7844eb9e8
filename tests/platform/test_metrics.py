"""Metrics: GraphQL operations per operation and tenant; jobs per actor with retries and dead
letters; queue depth. Read with the SDK's in-memory reader from a real gateway app and a real
Dramatiq worker on Redis (own namespace)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis as redis_lib
from crmtest import GQL, LOGIN, PASSWORD
from dramatiq.middleware import Retries
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from crm_core.messaging.broker import build_broker
from crm_core.messaging.outbox import NullDispatcher
from crm_core.metrics import JobMetrics, observe_queue_depth, operation_label
from crm_core.settings import Settings

REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def points(reader: InMemoryMetricReader, name: str) -> list[tuple[dict[str, Any], Any]]:
    data = reader.get_metrics_data()
    found = []
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name == name:
                    for p in metric.data.data_points:
                        value = p.value if hasattr(p, "value") else p.count
                        found.append((dict(p.attributes), value))
    return found


async def test_graphql_operations_are_counted_per_operation_and_tenant(
    settings: Settings, db: Any, tenant_a: Any
) -> None:
    from crm_api.app import create_app

    reader = InMemoryMetricReader()
    app = create_app(settings, database=db, dispatcher=NullDispatcher(), metric_readers=[reader])
    async with app.router.lifespan_context(app):
        anon = GQL(app)
        data = await anon(
            LOGIN, {"i": {"email": tenant_a.admin_email, "password": PASSWORD, "tenant": "alpha"}}
        )
        client = GQL(app, data["login"]["session"]["accessToken"])
        for _ in range(3):
            await client("query FirstCustomers { customers(first: 1) { totalCount } }")
        broken = await client.post("query Broken { customers(first: 1) { noSuchField } }")
        assert broken.json()["errors"]

    ops = points(reader, "crm.graphql.operations")
    tenant = str(tenant_a.ref.id)
    by_name = {(a["graphql.operation.name"], a["tenant.id"], a["outcome"]): v for a, v in ops}
    assert by_name[("FirstCustomers", tenant, "ok")] == 3
    assert by_name[("Broken", tenant, "error")] == 1
    assert by_name[("anonymous", "none", "ok")] == 1  # the login: no tenant bound yet
    durations = points(reader, "crm.graphql.operation.duration")
    assert any(a["graphql.operation.name"] == "FirstCustomers" and n == 3 for a, n in durations)
    errors = points(reader, "crm.graphql.operation.errors")
    assert [a["graphql.operation.name"] for a, _ in errors] == ["Broken"]


def test_operation_names_are_bounded() -> None:
    assert operation_label("ListCustomers") == "ListCustomers"
    assert operation_label(None) == "anonymous"
    assert operation_label("x" * 65) == "other"


@pytest.fixture
def namespace() -> Iterator[str]:
    ns = f"crmtest-metrics-{secrets.token_hex(4)}"
    yield ns
    client = redis_lib.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{ns}*"):
        client.delete(key)
    client.close()


def test_jobs_retries_dead_letters_and_queue_depth(namespace: str) -> None:
    settings = Settings(_env_file=None, redis_url=REDIS_URL, worker={"namespace": namespace})  # type: ignore[call-arg]
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    broker = build_broker(settings)
    broker.add_middleware(JobMetrics(provider.get_meter("test")), before=Retries)

    @dramatiq.actor(broker=broker, actor_name="metricstest.ok", queue_name="metricstest")
    def ok() -> None:
        pass

    @dramatiq.actor(
        broker=broker, actor_name="metricstest.bad", queue_name="metricstest",
        max_retries=1, min_backoff=10, max_backoff=20,
    )  # fmt: skip
    def bad() -> None:
        raise ValueError("always")

    depth_client = observe_queue_depth(
        provider.get_meter("test"), REDIS_URL, namespace, ["metricstest"]
    )
    ok.send()
    bad.send()
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            outcomes = {
                (a["actor"], a["outcome"]): v for a, v in points(reader, "crm.jobs.processed")
            }
            if outcomes.get(("metricstest.bad", "dead_lettered")):
                break
            time.sleep(0.1)
    finally:
        worker.stop()
        broker.close()
    assert outcomes == {
        ("metricstest.ok", "success"): 1,
        ("metricstest.bad", "retried"): 1,
        ("metricstest.bad", "dead_lettered"): 1,
    }
    assert [v for a, v in points(reader, "crm.jobs.retries")] == [1]
    assert [v for a, v in points(reader, "crm.jobs.dead_letters")] == [1]
    depth = {a["state"]: v for a, v in points(reader, "crm.queue.depth")}
    assert depth == {"ready": 0, "delayed": 0, "dead": 1}
    depth_client.close()
    provider.shutdown()
