"""The job machinery against a real worker process: runs, progress, retries with backoff then the
dead letters, re-runs, duplicate delivery with one effect, a tenant suspended after queueing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from jobhelpers import FAST_JOBS, enqueue, load_jobs, wait_finished
from sqlalchemy import func, select

from crm_core.audit.models import AuditEntry
from crm_core.db.engine import Database
from crm_core.jobs import service as jobs
from crm_core.jobs.models import JobStatus
from crm_core.jobs.tasks import SELFTEST
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import NullDispatcher, OutgoingMessage, unit_of_work
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import service as tenants
from crm_core.tenants.models import TenantStatus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def job_ns(redis_namespace: str) -> str:
    return f"{redis_namespace}-jobs"


@pytest.fixture(scope="module")
def job_dispatcher(settings: Settings, job_ns: str) -> Any:
    broker = build_broker(settings, namespace=job_ns)
    yield BrokerDispatcher(broker)
    broker.close()


@pytest.fixture
def worker(db: Database, spawn: Any, job_ns: str) -> Any:
    child = spawn("crm_worker", job_ns, **FAST_JOBS)
    child.wait_for("worker started")
    return child


async def _effects(db: Database, tenant: TenantRef, job_id: uuid.UUID) -> int:
    async with db.tenant(tenant).read() as session:
        stmt = select(func.count()).where(
            AuditEntry.entity == "job", AuditEntry.entity_id == job_id
        )
        return int((await session.execute(stmt)).scalar_one())


async def test_job_runs_reports_progress_and_succeeds(db, tenant_a, job_dispatcher, worker) -> None:
    [job_id] = await enqueue(db, job_dispatcher, tenant_a.admin, {"steps": 4, "step_ms": 50})
    [job] = await wait_finished(db, tenant_a.ref, [job_id])
    assert job.status is JobStatus.succeeded, job.error
    assert (job.progress_done, job.progress_total) == (4, 4)
    assert job.result == {"steps": 4, "attempt": 1}
    assert job.started_by == tenant_a.admin.user_id and job.heartbeat_at is not None


async def test_failures_are_retried_with_backoff_then_dead_lettered_and_rerunnable(
    db, tenant_a, job_dispatcher, worker
) -> None:
    [recovers] = await enqueue(db, job_dispatcher, tenant_a.admin, {"fail_attempts": 2})
    [dies] = await enqueue(db, job_dispatcher, tenant_a.admin, {"fail_attempts": 99})
    recovered, dead = await wait_finished(db, tenant_a.ref, [recovers, dies])
    assert recovered.status is JobStatus.succeeded and recovered.attempts == 3
    # selftest declares max_retries=3: four attempts, then the dead letters, the error kept.
    assert dead.status is JobStatus.dead and dead.attempts == dead.max_attempts == 4
    assert "asked to fail attempt 4" in (dead.error or "")
    failed = (await enqueue(db, job_dispatcher, tenant_a.admin, {"fail_permanently": True}))[0]
    [failed_row] = await wait_finished(db, tenant_a.ref, [failed])
    assert failed_row.status is JobStatus.failed and failed_row.attempts == 1  # no retry helps
    # Re-run the dead one: attempts start again and it dies again (still asked to fail).
    async with unit_of_work(db.tenant(tenant_a.ref), job_dispatcher) as session:
        again = await jobs.retry(session, tenant_a.admin, dies)
        assert again.status is JobStatus.queued and again.attempts == 0
    await _wait_attempts(db, tenant_a.ref, dies)
    [rerun] = await wait_finished(db, tenant_a.ref, [dies])
    assert rerun.status is JobStatus.dead and rerun.attempts == 4


async def _wait_attempts(db: Database, tenant: TenantRef, job_id: uuid.UUID) -> None:
    import asyncio

    for _ in range(100):
        [row] = await load_jobs(db, tenant, [job_id])
        if row.status is not JobStatus.queued:
            return
        await asyncio.sleep(0.1)


async def test_duplicate_delivery_has_exactly_one_effect(
    db, tenant_a, job_dispatcher, worker
) -> None:
    tdb = db.tenant(tenant_a.ref)
    async with unit_of_work(tdb, NullDispatcher()) as session:  # queued, message not yet sent
        job = await jobs.enqueue(
            session, tenant_a.admin, SELFTEST, {"effect": True, "step_ms": 200}
        )
    message = OutgoingMessage(
        SELFTEST,
        "jobs",
        {"tenant_id": str(tenant_a.ref.id), "job_id": str(job.id), "attempt": 1},
    )
    for _ in range(4):  # the same message four times, two worker threads racing for it
        job_dispatcher.send(message)
    [done] = await wait_finished(db, tenant_a.ref, [job.id])
    assert done.status is JobStatus.succeeded and done.attempts == 1
    # A late duplicate of a finished job's message is a no-op.
    job_dispatcher.send(message)
    second = (await enqueue(db, job_dispatcher, tenant_a.admin, {}))[0]
    await wait_finished(db, tenant_a.ref, [second])  # the queue has moved past the duplicate
    assert await _effects(db, tenant_a.ref, job.id) == 1
    worker.wait_for("nothing to claim")


async def test_idempotency_key_gives_one_job(db, tenant_a) -> None:
    tdb = db.tenant(tenant_a.ref)
    sink = NullDispatcher()
    async with unit_of_work(tdb, sink) as session:
        first = await jobs.enqueue(session, tenant_a.admin, SELFTEST, {}, idempotency_key="k-1")
        again = await jobs.enqueue(session, tenant_a.admin, SELFTEST, {}, idempotency_key="k-1")
    assert first.id == again.id and len(sink.sent) == 1


async def test_job_of_a_tenant_suspended_after_queueing_touches_nothing(
    db, job_dispatcher, worker
) -> None:
    from crmtest import make_tenant

    paused = await make_tenant(db, "paused-j")
    async with unit_of_work(db.tenant(paused.ref), NullDispatcher()) as session:
        job = await jobs.enqueue(session, paused.admin, SELFTEST, {"effect": True})
    await tenants.set_status(db, paused.ref.slug, TenantStatus.suspended)
    job_dispatcher.send(
        OutgoingMessage(
            SELFTEST,
            "jobs",
            {"tenant_id": str(paused.ref.id), "job_id": str(job.id), "attempt": 1},
        )
    )
    [row] = await wait_finished(db, paused.ref, [job.id])
    assert row.status is JobStatus.cancelled and row.attempts == 0
    assert "suspended after this job was queued" in (row.error or "")
    assert await _effects(db, paused.ref, job.id) == 0


async def test_a_job_of_one_tenant_cannot_be_run_through_another(
    db, tenant_a, tenant_b, job_dispatcher, worker
) -> None:
    """A message naming tenant B and a job of tenant A finds no such job in B's schema."""
    async with unit_of_work(db.tenant(tenant_a.ref), NullDispatcher()) as session:
        job = await jobs.enqueue(session, tenant_a.admin, SELFTEST, {"effect": True})
    job_dispatcher.send(
        OutgoingMessage(
            SELFTEST, "jobs", {"tenant_id": str(tenant_b.ref.id), "job_id": str(job.id)}
        )
    )
    marker = (await enqueue(db, job_dispatcher, tenant_b.admin, {}))[0]
    await wait_finished(db, tenant_b.ref, [marker])
    [row] = await load_jobs(db, tenant_a.ref, [job.id])
    assert row.status is JobStatus.queued and row.attempts == 0
    assert await _effects(db, tenant_a.ref, job.id) == 0
