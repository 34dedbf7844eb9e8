"""The HTTP and GraphQL surface: POST /files, importPreview, startImport, importRun, the error
report download, startExport — and that another tenant's file id is refused everywhere."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace
from typing import Any

import pytest
from crmtest import GQL

from crm_api.relay import from_global_id
from crm_core.exports import tasks as export_tasks
from crm_core.identity import scopes
from crm_core.imports import tasks as import_tasks
from crm_core.jobs import service as jobs
from crm_core.jobs.runner import JobContext, _Heartbeat
from crm_core.messaging.outbox import NullDispatcher

pytestmark = pytest.mark.asyncio(loop_scope="session")

PREVIEW = """query($f: String!, $m: [ImportColumnInput!]) {
  importPreview(fileId: $f, entity: CUSTOMER, mapping: $m) {
    headers mapping { column field } rows { row action values errors { field code message } }
    errors { field code message } } }"""
START = """mutation($f: String!, $d: Boolean!) { startImport(fileId: $f, entity: CUSTOMER, dryRun: $d) {
  run { id status } jobId errors { field code message } } }"""
RUN = """query($id: ID!) { importRun(id: $id) { status created updated failed errorReportUrl rowsDone } }"""
EXPORT = """mutation($i: StartExportInput!) { startExport(input: $i) { jobId errors { field code message } } }"""


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


async def _upload(gql: GQL, data: bytes, name: str = "x.csv") -> Any:
    return await gql.client.post(
        f"/files?name={name}", content=data,
        headers={"authorization": f"Bearer {gql.token}", "content-type": "text/csv"},
    )  # fmt: skip


async def _run_job(db: Any, settings: Any, who: Any, job_gid: str, handler: Any) -> dict[str, Any]:
    _, job_id = from_global_id(job_gid, expect="Job")
    tdb = db.tenant(who.tenant)
    async with tdb.transaction() as session:
        job = await jobs.claim(session, job_id, 1)
    ctx = JobContext(
        tenant=who.tenant, principal=await scopes.resolve(db, who), job_id=job_id,
        params=dict(job.params), db=tdb, attempt=1, _beat=_Heartbeat(tdb, job_id, 1),
        runtime=SimpleNamespace(settings=settings, dispatcher=NullDispatcher()),  # type: ignore[arg-type]
    )  # fmt: skip
    result = await handler(ctx)
    async with tdb.transaction() as session:
        await jobs.finish(session, job_id, 1, jobs.JobStatus.succeeded, result=result)
    return result


async def test_upload_preview_import_report_and_export(
    db, settings, gql_as, tenant_a, tenant_b
) -> None:
    admin = await gql_as(tenant_a.admin_email, "alpha")
    other = await gql_as(tenant_b.admin_email, "bravo")
    data = _csv([["公司名称", "客户编号", "联系电话", "随便"], ["接口公司", "API-1", "13800138000", "x"],
                 ["", "API-2", "1", "y"]])  # fmt: skip
    response = await _upload(admin, data, "导入.csv")
    assert response.status_code == 201, response.text
    file_id = response.json()["id"]
    assert (
        await GQL(admin.client._transport.app).client.post("/files", content=b"x")
    ).status_code == 401  # type: ignore[attr-defined]

    preview = (await admin(PREVIEW, {"f": file_id, "m": [{"column": "随便", "field": None}]}))[
        "importPreview"
    ]
    assert preview["errors"] == []
    assert {m["column"]: m["field"] for m in preview["mapping"]} == {
        "公司名称": "name",
        "客户编号": "code",
        "联系电话": "phone",
    }
    assert [r["action"] for r in preview["rows"]] == ["created", "failed"]
    assert {e["field"] for e in preview["rows"][1]["errors"]} == {"phone"}

    # Tenant B cannot use tenant A's file: not in a preview, not in an import, not by download.
    theirs = (await other(PREVIEW, {"f": file_id, "m": None}))["importPreview"]
    assert [e["code"] for e in theirs["errors"]] == ["NOT_FOUND"]
    refused = (await other(START, {"f": file_id, "d": False}))["startImport"]
    assert refused["run"] is None and refused["errors"][0]["code"] == "NOT_FOUND"
    download = await other.client.get(
        f"/files/{file_id}", headers={"authorization": f"Bearer {other.token}"}
    )
    assert download.status_code == 404

    started = (await admin(START, {"f": file_id, "d": False}))["startImport"]
    assert started["errors"] == []
    await _run_job(db, settings, tenant_a.admin, started["jobId"], import_tasks.run_import)
    run = (await admin(RUN, {"id": started["run"]["id"]}))["importRun"]
    assert (run["status"], run["created"], run["failed"], run["rowsDone"]) == ("succeeded", 1, 1, 2)
    assert (await other(RUN, {"id": started["run"]["id"]}))["importRun"] is None
    report = await admin.client.get(
        run["errorReportUrl"], headers={"authorization": f"Bearer {admin.token}"}
    )
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert {(x["row"], x["column"], x["field"]) for x in lines} == {("3", "联系电话", "phone")}

    out = (await admin(EXPORT, {"i": {"entity": "CUSTOMER", "format": "CSV", "columns": ["code", "name", "phone"],
                                      "customerFilter": {"code": {"eq": "API-1"}}}}))["startExport"]  # fmt: skip
    assert out["errors"] == []
    result = await _run_job(db, settings, tenant_a.admin, out["jobId"], export_tasks.run_export)
    got = await admin.client.get(result["url"], headers={"authorization": f"Bearer {admin.token}"})
    assert list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")))) == [
        ["code", "name", "phone"],
        ["API-1", "接口公司", "+8613800138000"],
    ]
    viewer = await gql_as(tenant_a.viewer_email, "alpha")
    denied = (await viewer(EXPORT, {"i": {"entity": "CUSTOMER"}}))["startExport"]
    assert denied["jobId"] is None and denied["errors"][0]["code"] == "FORBIDDEN"


async def test_upload_size_limit(app, settings, gql_as, tenant_a) -> None:
    admin = await gql_as(tenant_a.admin_email, "alpha")
    limit = settings.transfer.max_upload_bytes
    settings.transfer.max_upload_bytes = 100
    try:
        response = await _upload(admin, b"a,b\n" * 100)
    finally:
        settings.transfer.max_upload_bytes = limit
    assert response.status_code == 413


def test_export_filters_read_the_same_columns_as_the_api_lists() -> None:
    """A filter checked against the API's column map is compiled by the worker against the
    model's: every field must name the same column in both."""
    from crm_api.transfer.schema import LISTS
    from crm_core.exports.specs import spec_of

    for entity, (api_list, _) in LISTS.items():
        mine = spec_of(entity).columns
        for name, column in api_list.columns.items():
            assert name in mine, (entity, name)
            assert mine[name] is column or mine[name].expression.compare(column.expression), (
                entity,
                name,
            )
