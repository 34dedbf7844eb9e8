"""One trace from the GraphQL request, through its SQL, across Redis, into the worker's span and
the worker's SQL; spans carry the tenant and never the password of a login."""

from __future__ import annotations

import time

import pytest
from crmtest import GQL, LOGIN, PASSWORD
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.telemetry import setup_telemetry


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
async def traced(settings, db, exporter):
    from crm_api.app import create_app
    from crm_worker.main import build_worker

    namespace = settings.worker.namespace + "-otel"
    worker_settings = settings.model_copy(
        update={"worker": settings.worker.model_copy(update={"namespace": namespace})}
    )
    telemetry = setup_telemetry(
        worker_settings, service_name="test", processors=[SimpleSpanProcessor(exporter)]
    )
    broker = build_broker(worker_settings)
    app = create_app(
        worker_settings,
        database=db,
        dispatcher=BrokerDispatcher(broker),
        span_processors=[SimpleSpanProcessor(exporter)],
    )
    worker, _ = build_worker(worker_settings, telemetry)
    worker.start()
    async with app.router.lifespan_context(app):
        yield app
    worker.stop(timeout=5000)
    broker.close()


async def test_request_sql_queue_and_worker_share_one_trace(traced, exporter, tenant_a) -> None:
    anon = GQL(traced)
    login = await anon(
        LOGIN, {"i": {"email": tenant_a.admin_email, "password": PASSWORD, "tenant": "alpha"}}
    )
    gql = GQL(traced, login["login"]["session"]["accessToken"])
    exporter.clear()
    created = await gql(
        'mutation CreateTraced { createCustomer(input: {name: " Traced  Co ", kind: COMPANY, phone: "13800001234"}) '
        "{ customer { id } errors { code } } }"
    )
    assert created["createCustomer"]["errors"] == []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        spans = exporter.get_finished_spans()
        if any(s.name == "process cleansing.cleanse_customer" for s in spans):
            break
        time.sleep(0.1)
    spans = exporter.get_finished_spans()
    operation = next((s for s in spans if s.name == "GraphQL CreateTraced"), None)
    assert operation is not None, sorted({s.name for s in spans})
    trace_id = operation.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    process = next(s for s in in_trace if s.name == "process cleansing.cleanse_customer")
    worker_sql = [
        s for s in in_trace if s.parent is not None and s.parent.span_id == process.context.span_id
    ]
    assert any(
        s.attributes.get("db.system") == "postgresql"
        for s in in_trace
        if s.start_time < process.start_time
    ), names
    assert worker_sql, names
    assert process.attributes["tenant.id"] == str(tenant_a.ref.id)
    assert all(s.attributes.get("tenant.id") == str(tenant_a.ref.id) for s in worker_sql)


async def test_login_password_never_reaches_spans(traced, exporter, tenant_a) -> None:
    exporter.clear()
    await GQL(traced)(
        LOGIN, {"i": {"email": tenant_a.admin_email, "password": PASSWORD, "tenant": "alpha"}}
    )
    inline = f'mutation {{ login(input: {{email: "{tenant_a.admin_email}", password: "{PASSWORD}"}}) {{ errors {{ code }} }} }}'
    await GQL(traced)(inline)
    for span in exporter.get_finished_spans():
        for value in span.attributes.values():
            assert PASSWORD not in str(value), span.name
