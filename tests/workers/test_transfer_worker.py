"""An import and an export through the real worker path: enqueue → outbox → Redis → a
``python -m crm_worker`` process → the job's row; progress and counts visible on the job."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from jobhelpers import wait_finished
from sqlalchemy import select

from crm_core.customers.models import Customer
from crm_core.exports import service as exports
from crm_core.files import service as files
from crm_core.imports import service as imports
from crm_core.messaging.outbox import unit_of_work

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


async def test_import_and_export_run_on_the_worker(
    db, settings, dispatcher, worker_namespace, spawn, tenant_a, tenant_b
) -> None:
    worker = spawn(
        "crm_worker", worker_namespace,
        CRM_DATA_DIR=str(settings.data_dir), CRM_TRANSFER__CHUNK_ROWS="50",
        CRM_JOBS__HEARTBEAT_SECONDS="0.5",
    )  # fmt: skip
    worker.wait_for("worker started")
    rows = (
        [["客户编号", "客户名称", "手机"]]
        + [[f"WRK-{i:04d}", f"工人公司{i}", f"139{i:08d}"] for i in range(1, 231)]
        + [["WRK-BAD", "坏号码", "12"]]
    )
    who = tenant_a.admin

    async def chunks() -> Any:
        yield _csv(rows)

    async with unit_of_work(db.tenant(who.tenant), dispatcher) as session:
        upload = await files.save_upload(
            session, who, settings, chunks(), filename="w.csv", content_type="text/csv"
        )
    async with unit_of_work(db.tenant(who.tenant), dispatcher) as session:
        run = await imports.start(
            session, who, settings, upload.id, "customer", None, dry_run=False
        )
    assert run.job_id is not None
    (job,) = await wait_finished(db, who.tenant, [run.job_id], timeout=90)
    assert job.status.value == "succeeded", (job.error, worker.log()[-3000:])
    assert job.result["created"] == 230 and job.result["failed"] == 1
    assert (job.progress_done, job.progress_total) == (231, 231)
    async with db.tenant(who.tenant).read() as session:
        n = len(
            (await session.execute(select(Customer.id).where(Customer.code.like("WRK-%")))).all()
        )
    assert n == 230
    async with db.tenant(tenant_b.ref).read() as session:  # nothing reached the other tenant
        assert (
            await session.execute(select(Customer.id).where(Customer.code.like("WRK-%")))
        ).first() is None

    async with unit_of_work(db.tenant(who.tenant), dispatcher) as session:
        export = await exports.start(
            session,
            who,
            "customer",
            filter_spec={"code": {"startsWith": "WRK-"}},
            fmt="csv",
            columns=["code", "phone"],
        )
    (job,) = await wait_finished(db, who.tenant, [export.id], timeout=60)
    assert job.status.value == "succeeded", job.error
    path = files.path_of(settings, who.tenant, uuid.UUID(job.result["file_id"]))
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert lines[0] == ["code", "phone"] and len(lines) == 231
