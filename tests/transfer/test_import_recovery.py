"""An import whose job dies or fails mid-way: the next attempt resumes after the last committed
chunk (no row merged twice); when the attempts run out, or the job ends without its handler (the
sweep dead-letters it, it is refused), the run ends ``failed``/``cancelled`` with the job's error
instead of showing ``merging`` forever; a re-run of the dead job reopens the run and finishes it.

Attempts go through the real runner (``run_message``: claim, heartbeat, retry scheduling, dead
letter), in this process, with a failure raised at the merge step of a chosen chunk.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from crmtest import make_tenant
from sqlalchemy import func, select, update

from crm_core.customers.models import Customer
from crm_core.db.engine import Database
from crm_core.files import service as files
from crm_core.identity.principal import Principal
from crm_core.imports import service as imports
from crm_core.imports import tasks as import_tasks  # noqa: F401 - declares the job kind
from crm_core.imports.models import ImportRun, ImportStagingRow, ImportStatus
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job, JobStatus
from crm_core.jobs.runner import run_message
from crm_core.jobs.schemas import kind_of
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROWS = 10
CHUNK = 3


def _csv(prefix: str) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["客户编号", "客户名称"])
    for i in range(1, ROWS + 1):
        out.writerow([f"{prefix}-{i:02d}", f"恢复测试公司{prefix}{i}"])
    return buf.getvalue().encode("utf-8-sig")


def _small_chunks(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"transfer": settings.transfer.model_copy(update={"chunk_rows": CHUNK})}
    )


async def _start(db: Database, settings: Settings, who: Principal, prefix: str) -> ImportRun:
    data = _csv(prefix)

    async def chunks() -> Any:
        yield data

    async with unit_of_work(db.tenant(who.tenant), NullDispatcher()) as session:
        upload = await files.save_upload(
            session, who, settings, chunks(), filename=f"{prefix}.csv", content_type="text/csv"
        )
    async with unit_of_work(db.tenant(who.tenant), NullDispatcher()) as session:
        run = await imports.start(
            session, who, settings, upload.id, "customer", None, dry_run=False
        )
    assert run.job_id is not None
    return run


async def _attempt(
    db: Database, settings: Settings, run: ImportRun, who: Principal, n: int
) -> None:
    """One message of the job, through the runner, as a worker would run it."""
    runtime = SimpleNamespace(settings=settings, dispatcher=NullDispatcher())
    await run_message(
        kind_of(imports.KIND), runtime, db,  # type: ignore[arg-type]
        tenant_id=str(who.tenant.id), job_id=str(run.job_id), attempt=n,
    )  # fmt: skip


async def _job(db: Database, who: Principal, run: ImportRun) -> Job:
    async with db.tenant(who.tenant).read() as session:
        job = await session.get(Job, run.job_id)
    assert job is not None
    return job


async def _stored(db: Database, who: Principal, run_id: uuid.UUID) -> ImportRun:
    """The run's row as stored (not as ``get`` presents it)."""
    async with db.tenant(who.tenant).read() as session:
        row = await session.get(ImportRun, run_id)
    assert row is not None
    return row


async def _shown(db: Database, who: Principal, run_id: uuid.UUID) -> ImportRun:
    async with db.tenant(who.tenant).read() as session:
        return await imports.get(session, who, run_id)


async def _codes(db: Database, who: Principal, prefix: str) -> list[str]:
    async with db.tenant(who.tenant).read() as session:
        rows = await session.execute(select(Customer.code).where(Customer.code.like(f"{prefix}-%")))
        return sorted(rows.scalars())


async def _staged(db: Database, who: Principal, run_id: uuid.UUID) -> int:
    async with db.tenant(who.tenant).read() as session:
        n = await session.scalar(
            select(func.count()).where(ImportStagingRow.run_id == run_id)  # type: ignore[arg-type]
        )
    return int(n or 0)


class FailingMerge:
    """Raises at the merge step from the ``from_call``-th chunk merged on (while armed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, from_call: int) -> None:
        self.calls = 0
        self.from_call = from_call
        self.armed = True
        self._real = imports.merge_rows
        monkeypatch.setattr(imports, "merge_rows", self)

    async def __call__(self, *args: Any) -> Any:
        self.calls += 1
        if self.armed and self.calls >= self.from_call:
            raise RuntimeError("connection to the database was lost")
        return await self._real(*args)


async def test_a_failed_attempt_is_resumed_and_merges_no_row_twice(
    db, settings, tenant_a, monkeypatch
) -> None:
    settings = _small_chunks(settings)
    who = tenant_a.admin
    run = await _start(db, settings, who, "RSM")
    failing = FailingMerge(monkeypatch, from_call=2)

    await _attempt(db, settings, run, who, 1)
    job = await _job(db, who, run)
    assert (job.status, job.attempts) == (JobStatus.queued, 1)
    assert "connection to the database was lost" in (job.error or "")
    stored = await _stored(db, who, run.id)
    # Still open (a retry is coming), the first chunk committed with its resume point.
    assert stored.status is ImportStatus.merging and stored.error is None
    assert (stored.rows_done, stored.created) == (CHUNK, CHUNK)
    assert (await _shown(db, who, run.id)).status is ImportStatus.merging

    failing.armed = False
    await _attempt(db, settings, run, who, 2)
    job = await _job(db, who, run)
    assert job.status is JobStatus.succeeded, job.error
    done = await _stored(db, who, run.id)
    assert done.status is ImportStatus.succeeded
    assert (done.rows_done, done.created, done.updated, done.failed) == (ROWS, ROWS, 0, 0)
    assert await _codes(db, who, "RSM") == [f"RSM-{i:02d}" for i in range(1, ROWS + 1)]
    assert await _staged(db, who, run.id) == 0


async def test_the_run_fails_with_its_dead_job_and_a_rerun_finishes_it(
    db, settings, tenant_a, monkeypatch
) -> None:
    settings = _small_chunks(settings)
    who = tenant_a.admin
    run = await _start(db, settings, who, "DLQ")
    failing = FailingMerge(monkeypatch, from_call=2)
    last = kind_of(imports.KIND).max_attempts
    for n in range(1, last + 1):
        await _attempt(db, settings, run, who, n)
        if n < last:
            assert (await _stored(db, who, run.id)).status is ImportStatus.merging
    job = await _job(db, who, run)
    assert (job.status, job.attempts) == (JobStatus.dead, last)
    stored = await _stored(db, who, run.id)
    assert stored.status is ImportStatus.failed and stored.finished_at is not None
    assert stored.error == job.error and "connection to the database was lost" in stored.error
    assert (stored.rows_done, stored.created) == (CHUNK, CHUNK)
    assert await _staged(db, who, run.id) == 0  # the file's copy is not kept for a failed run

    # retryJob: the run reopens, stages the file again and resumes after the merged rows.
    failing.armed = False
    async with unit_of_work(db.tenant(who.tenant), NullDispatcher()) as session:
        await jobs.retry(session, who, job.id)
    await _attempt(db, settings, run, who, 1)
    job = await _job(db, who, run)
    assert job.status is JobStatus.succeeded, job.error
    done = await _stored(db, who, run.id)
    assert done.status is ImportStatus.succeeded and done.error is None
    assert (done.rows_done, done.created, done.updated) == (ROWS, ROWS, 0)
    assert await _codes(db, who, "DLQ") == [f"DLQ-{i:02d}" for i in range(1, ROWS + 1)]


async def test_a_job_ended_without_its_handler_ends_the_run(db, settings) -> None:
    """The worker died on the last attempt (the sweep dead-letters the job) or the job was refused
    (tenant suspended): the run is shown ended at once and written down by the upkeep; another
    tenant's runs are not touched."""
    a = await make_tenant(db, f"imr{uuid.uuid4().hex[:6]}")
    b = await make_tenant(db, f"imr{uuid.uuid4().hex[:6]}")
    tdb = db.tenant(a.ref)
    killed = await _start(db, settings, a.admin, "KIL")
    refused = await _start(db, settings, a.admin, "REF")
    other = await _start(db, settings, b.admin, "OTH")
    last = kind_of(imports.KIND).max_attempts
    async with tdb.transaction() as session:
        # The last attempt started and staged the file, then its worker died (no more beats).
        await session.execute(update(Job).where(Job.id == killed.job_id).values(attempts=last - 1))
        assert await jobs.claim(session, killed.job_id, last) is not None
        await session.execute(
            update(Job)
            .where(Job.id == killed.job_id)
            .values(heartbeat_at=datetime.now(UTC) - timedelta(hours=1))
        )
        await session.execute(
            update(ImportRun)
            .where(ImportRun.id == killed.id)
            .values(status=ImportStatus.merging, staged=True)
        )
        session.add(ImportStagingRow(run_id=killed.id, row_number=2, cells=["KIL-01", "x"]))
        assert await jobs.refuse(session, refused.job_id, JobStatus.cancelled, "tenant suspended")
    swept = await jobs.sweep(tdb, stale_after_seconds=60, requeue_queued_after_seconds=3600)
    assert swept.dead == 1
    async with db.tenant(b.ref).transaction() as session:  # the other tenant's job ends too
        assert await jobs.refuse(session, other.job_id, JobStatus.cancelled, "B's own reason")

    shown = await _shown(db, a.admin, killed.id)
    assert shown.status is ImportStatus.failed
    assert shown.error == "its worker stopped (no heartbeat) and no attempt is left"
    assert (await _shown(db, a.admin, refused.id)).status is ImportStatus.cancelled
    # Shown, not yet written: reads do not write.
    assert (await _stored(db, a.admin, killed.id)).status is ImportStatus.merging

    async with tdb.transaction() as session:
        assert await imports.settle_ended_jobs(session) == 2
    stored = await _stored(db, a.admin, killed.id)
    assert stored.status is ImportStatus.failed and stored.error == shown.error
    assert not stored.staged and await _staged(db, a.admin, killed.id) == 0
    cancelled = await _stored(db, a.admin, refused.id)
    assert (cancelled.status, cancelled.error) == (ImportStatus.cancelled, "tenant suspended")
    # Tenant B's run was not written by tenant A's upkeep; its own read shows its own reason.
    assert (await _stored(db, b.admin, other.id)).status is ImportStatus.queued
    assert (await _shown(db, b.admin, other.id)).error == "B's own reason"
    async with db.tenant(b.ref).transaction() as session:
        assert (await imports.get(session, b.admin, other.id, persist=True)).error == (
            "B's own reason"
        )
        assert await imports.settle_ended_jobs(session) == 0  # written by the get just now
    assert (await _stored(db, b.admin, other.id)).status is ImportStatus.cancelled
    # A's run ids are "not found" from tenant B.
    async with db.tenant(b.ref).read() as session:
        with pytest.raises(Exception, match="not found"):
            await imports.get(session, b.admin, killed.id)
