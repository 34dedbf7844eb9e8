"""Imports and exports against real PostgreSQL: CSV and XLSX, guessed mappings in Chinese and
English, dry runs, upserts on natural keys, relations by code, per-row error reports, orders with
lines by product code, exports inside scope and masking, two-tenant isolation.

The jobs are run by calling their handlers with a claimed job (the runner's own claim and
heartbeat); ``test_worker_path`` runs one through a real ``python -m crm_worker`` process.
"""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from crm_core.contacts.models import Contact
from crm_core.customers.models import Customer
from crm_core.db.engine import Database
from crm_core.exports import service as exports
from crm_core.exports import tasks as export_tasks
from crm_core.files import service as files
from crm_core.identity import scopes
from crm_core.identity.principal import Principal
from crm_core.imports import service as imports
from crm_core.imports import tasks as import_tasks
from crm_core.imports.models import ImportRun
from crm_core.jobs import service as jobs
from crm_core.jobs.runner import JobContext, _Heartbeat
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.orders.models import Order, OrderLine
from crm_core.products import service as products
from crm_core.settings import Settings
from crm_core.tenants.models import Role

pytestmark = pytest.mark.asyncio(loop_scope="session")


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(
    db: Database, settings: Settings, who: Principal, data: bytes, name: str
) -> uuid.UUID:
    async def chunks() -> Any:
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    async with unit_of_work(db.tenant(who.tenant), NullDispatcher()) as session:
        row = await files.save_upload(
            session, who, settings, chunks(), filename=name, content_type="text/csv"
        )
    return row.id


async def run_job(
    db: Database, who: Principal, job_id: uuid.UUID, handler: Any, settings: Settings
) -> dict[str, Any]:
    """Claim the job as the runner does, then run its handler with a real context."""
    tdb = db.tenant(who.tenant)
    async with tdb.transaction() as session:
        job = await jobs.claim(session, job_id, 1)
    assert job is not None
    principal = await scopes.resolve(db, who)
    ctx = JobContext(
        tenant=who.tenant, principal=principal, job_id=job_id, params=dict(job.params),
        db=tdb, attempt=1, _beat=_Heartbeat(tdb, job_id, 1),
        runtime=SimpleNamespace(settings=settings, dispatcher=NullDispatcher()),  # type: ignore[arg-type]
    )  # fmt: skip
    result = await handler(ctx)
    async with tdb.transaction() as session:
        await jobs.finish(session, job_id, 1, jobs.JobStatus.succeeded, result=result)
    return result


async def do_import(
    db: Database, settings: Settings, who: Principal, data: bytes, name: str, entity: str,
    mapping: dict[str, str] | None = None, dry_run: bool = False,
) -> ImportRun:  # fmt: skip
    file_id = await upload(db, settings, who, data, name)
    async with unit_of_work(db.tenant(who.tenant), NullDispatcher()) as session:
        run = await imports.start(session, who, settings, file_id, entity, mapping, dry_run=dry_run)
    assert run.job_id is not None
    await run_job(db, who, run.job_id, import_tasks.run_import, settings)
    async with db.tenant(who.tenant).read() as session:
        return await imports.get(session, who, run.id)


async def customers_by_code(db: Database, who: Principal, codes: list[str]) -> dict[str, Customer]:
    async with db.tenant(who.tenant).read() as session:
        rows = (await session.execute(select(Customer).where(Customer.code.in_(codes)))).scalars()
        return {c.code: c for c in rows}


def report_lines(settings: Settings, who: Principal, run: ImportRun) -> list[dict[str, str]]:
    assert run.error_file_id is not None
    path = files.path_of(settings, who.tenant, run.error_file_id)
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


CHINESE = [
    ["客户编号", "客户名称", "手机", "邮箱", "省份", "城市", "行业", "备注"],
    [
        "IMP-001",
        "杭州云帆科技有限公司",
        "138 1234 5678",
        "Info@YunFan.cn",
        "浙江省",
        "杭州市",
        "软件",
        "",
    ],
    ["IMP-002", "苏州恒达机械", "0512-6688 1234", "", "江苏省", "苏州市", "制造", "老客户"],
]


async def test_csv_with_chinese_headers_is_guessed_and_imported(db, settings, tenant_a) -> None:
    run = await do_import(db, settings, tenant_a.admin, csv_bytes(CHINESE), "客户.csv", "customer")
    assert run.mapping == {
        "客户编号": "code", "客户名称": "name", "手机": "phone", "邮箱": "email",
        "省份": "province", "城市": "city", "行业": "industry", "备注": "notes",
    }  # fmt: skip
    assert (run.status.value, run.created, run.updated, run.failed) == ("succeeded", 2, 0, 0)
    got = await customers_by_code(db, tenant_a.admin, ["IMP-001", "IMP-002"])
    yunfan = got["IMP-001"]
    assert yunfan.phone == "+8613812345678" and yunfan.email == "info@yunfan.cn"
    assert yunfan.city == "杭州市" and yunfan.owner_id == tenant_a.admin.user_id
    assert (
        "yunfan" in yunfan.search_text or "云帆" in yunfan.search_text
    )  # the service's derivation
    assert got["IMP-002"].notes == "老客户"


async def test_xlsx_with_english_headers(db, settings, tenant_a) -> None:
    rows = [
        ["Customer Code", "Company Name", "Phone", "E-mail", "City", "Grade", "Tags"],
        [
            "IMP-X01",
            "Northwind Trading",
            "+1 415 555 0100",
            "ops@northwind.com",
            "San Francisco",
            "a",
            "vip, export",
        ],
        ["IMP-X02", "Contoso Ltd", 13912345678, None, "上海", "B", None],
    ]
    run = await do_import(db, settings, tenant_a.admin, xlsx_bytes(rows), "c.xlsx", "customer")
    assert (run.created, run.failed) == (2, 0), (
        report_lines(settings, tenant_a.admin, run) if run.failed else run
    )
    got = await customers_by_code(db, tenant_a.admin, ["IMP-X01", "IMP-X02"])
    assert got["IMP-X01"].grade.value == "A" and got["IMP-X01"].tags == ["export", "vip"]
    assert got["IMP-X02"].phone == "+8613912345678"


async def test_dry_run_writes_nothing_but_counts_and_reports(db, settings, tenant_a) -> None:
    data = csv_bytes(
        [["code", "name", "email"], ["DRY-1", "Dry One", "dry@x.cn"], ["DRY-2", "", "bad@"]]
    )
    run = await do_import(db, settings, tenant_a.admin, data, "d.csv", "customer", dry_run=True)
    assert (run.created, run.failed, run.dry_run) == (1, 1, True)
    assert await customers_by_code(db, tenant_a.admin, ["DRY-1", "DRY-2"]) == {}
    assert {line["field"] for line in report_lines(settings, tenant_a.admin, run)} >= {"email"}


async def test_preview_parses_first_rows_without_writing(db, settings, tenant_a) -> None:
    data = csv_bytes([["名称", "电话"], ["预览公司", "138 0000 1111"], ["坏号码", "12"]])
    file_id = await upload(db, settings, tenant_a.admin, data, "p.csv")
    async with db.tenant(tenant_a.ref).transaction() as session:
        result = await imports.preview(
            session, tenant_a.admin, settings, file_id, "customer", {"电话": "phone"}
        )
    assert result.mapping == {"名称": "name", "电话": "phone"}
    assert [r.action for r in result.rows] == ["created", "failed"]
    assert [e.field for e in result.rows[1].errors] == ["phone"]
    async with db.tenant(tenant_a.ref).read() as session:
        n = (
            await session.execute(select(func.count()).where(Customer.name == "预览公司"))
        ).scalar_one()
    assert n == 0


async def test_upsert_updates_by_code_and_creates_new(db, settings, tenant_a) -> None:
    first = csv_bytes([["客户编号", "客户名称", "城市"], ["UPS-1", "原名公司", "北京市"]])
    await do_import(db, settings, tenant_a.admin, first, "u1.csv", "customer")
    before = (await customers_by_code(db, tenant_a.admin, ["UPS-1"]))["UPS-1"]
    second = csv_bytes(
        [["客户编号", "客户名称", "城市"], ["ups-1", "新名公司", ""], ["UPS-2", "另一家", "天津市"]]
    )
    run = await do_import(db, settings, tenant_a.admin, second, "u2.csv", "customer")
    assert (run.created, run.updated, run.failed) == (1, 1, 0)
    got = await customers_by_code(db, tenant_a.admin, ["UPS-1", "UPS-2"])
    assert got["UPS-1"].id == before.id and got["UPS-1"].name == "新名公司"
    assert got["UPS-1"].city == "北京市"  # an empty cell leaves the value as it was
    assert got["UPS-1"].version == before.version + 1


async def test_upsert_by_email_then_phone_when_no_code(db, settings, tenant_a) -> None:
    data = csv_bytes([["name", "email", "phone"], ["Key Co", "key@key.cn", "13700001111"]])
    await do_import(db, settings, tenant_a.admin, data, "k1.csv", "customer")
    again = csv_bytes(
        [["name", "email", "phone", "industry"],
         ["Key Co", "key@key.cn", "", "物流"],
         ["Key Co by phone", "", "+86 137 0000 1111", "仓储"]]
    )  # fmt: skip
    run = await do_import(db, settings, tenant_a.admin, again, "k2.csv", "customer")
    assert (run.created, run.updated) == (0, 2)
    async with db.tenant(tenant_a.ref).read() as session:
        rows = (
            (await session.execute(select(Customer).where(Customer.email == "key@key.cn")))
            .scalars()
            .all()
        )
    assert len(rows) == 1 and rows[0].industry == "仓储"


async def test_error_report_lists_bad_rows_and_good_rows_are_imported(
    db, settings, tenant_a
) -> None:
    data = csv_bytes(
        [["客户编号", "客户名称", "手机", "邮箱", "等级"],
         ["ERR-1", "好公司一", "13811112222", "a@good.cn", "A"],
         ["ERR-2", "", "13811113333", "", "B"],
         ["ERR-3", "坏号码公司", "123", "not-an-email", "B"],
         ["ERR-4", "坏等级公司", "", "", "Z"],
         ["ERR-5", "好公司二", "", "", ""]]
    )  # fmt: skip
    run = await do_import(db, settings, tenant_a.admin, data, "e.csv", "customer")
    assert (run.created, run.failed) == (2, 3)
    assert set(await customers_by_code(db, tenant_a.admin, [f"ERR-{i}" for i in range(1, 6)])) == {
        "ERR-1",
        "ERR-5",
    }
    lines = report_lines(settings, tenant_a.admin, run)
    got = {(line["row"], line["column"], line["field"]) for line in lines}
    assert ("3", "客户名称", "name") in got
    assert ("4", "手机", "phone") in got and ("4", "邮箱", "email") in got
    assert ("5", "等级", "grade") in got
    bad = next(line for line in lines if line["field"] == "phone")
    assert bad["value"] == "123" and bad["error"].startswith("INVALID")


async def test_contacts_are_resolved_to_customers_by_code(db, settings, tenant_a) -> None:
    await do_import(
        db, settings, tenant_a.admin,
        csv_bytes([["客户编号", "客户名称"], ["CON-1", "联系人测试公司"]]), "cc.csv", "customer",
    )  # fmt: skip
    data = csv_bytes(
        [["客户编号", "联系人", "职位", "手机", "邮箱"],
         ["con-1", "王伟", "采购经理", "13600001111", "wang@lx.cn"],
         ["CON-1", "刘洋", "总经理", "", ""],
         ["NOPE-9", "无主", "", "", ""]]
    )  # fmt: skip
    run = await do_import(db, settings, tenant_a.admin, data, "contacts.csv", "contact")
    assert (run.created, run.failed) == (2, 1)
    lines = report_lines(settings, tenant_a.admin, run)
    assert [(x["row"], x["field"], x["value"]) for x in lines] == [("4", "customer_code", "NOPE-9")]
    customer = (await customers_by_code(db, tenant_a.admin, ["CON-1"]))["CON-1"]
    async with db.tenant(tenant_a.ref).read() as session:
        contacts = (
            (await session.execute(select(Contact).where(Contact.customer_id == customer.id)))
            .scalars()
            .all()
        )
    by_name = {c.name: c for c in contacts}
    assert by_name["王伟"].phones[0]["e164"] == "+8613600001111"
    # Again, matched by e-mail: an update, not a second contact.
    again = csv_bytes(
        [["客户编号", "联系人", "邮箱", "部门"], ["CON-1", "王伟", "WANG@lx.cn", "采购部"]]
    )
    run = await do_import(db, settings, tenant_a.admin, again, "contacts2.csv", "contact")
    assert (run.created, run.updated) == (0, 1)


async def test_order_with_lines_by_product_code(db, settings, tenant_a) -> None:
    async with unit_of_work(db.tenant(tenant_a.ref), NullDispatcher()) as session:
        for code, price in (("P-IMP-1", "100.00"), ("P-IMP-2", "25.50")):
            await products.create(
                session, tenant_a.admin, {"code": code, "name": code, "unit_price": price}
            )
    await do_import(
        db, settings, tenant_a.admin,
        csv_bytes([["客户编号", "客户名称"], ["ORD-C1", "订单客户"]]), "oc.csv", "customer",
    )  # fmt: skip
    data = csv_bytes(
        [["订单号", "客户编号", "产品编号", "数量", "单价"],
         ["SO-IMP-1", "ORD-C1", "P-IMP-1", "2", ""],
         ["SO-IMP-1", "ORD-C1", "P-IMP-2", "4", "20"],
         ["SO-IMP-2", "ORD-C1", "P-MISSING", "1", ""]]
    )  # fmt: skip
    run = await do_import(db, settings, tenant_a.admin, data, "orders.csv", "order")
    assert (run.created, run.failed) == (2, 1)
    assert [(x["row"], x["field"]) for x in report_lines(settings, tenant_a.admin, run)] == [
        ("4", "product_code")
    ]
    async with db.tenant(tenant_a.ref).read() as session:
        order = (
            await session.execute(select(Order).where(Order.number == "SO-IMP-1"))
        ).scalar_one()
        lines = (
            (
                await session.execute(
                    select(OrderLine)
                    .where(OrderLine.order_id == order.id)
                    .order_by(OrderLine.position)
                )
            )
            .scalars()
            .all()
        )
    assert [str(line.amount) for line in lines] == ["200.00", "80.00"]
    assert str(order.total_amount) == "280.00"


async def run_export(db, settings, who: Principal, entity: str, **kw: Any) -> list[list[str]]:
    async with unit_of_work(db.tenant(who.tenant), NullDispatcher()) as session:
        job = await exports.start(
            session, who, entity, filter_spec=kw.get("filter"), fmt=kw.get("fmt", "csv"),
            columns=kw.get("columns"),
        )  # fmt: skip
    result = await run_job(db, who, job.id, export_tasks.run_export, settings)
    path = files.path_of(settings, who.tenant, uuid.UUID(result["file_id"]))
    if kw.get("fmt") == "xlsx":
        book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
        return [
            ["" if v is None else str(v) for v in r]
            for r in book.worksheets[0].iter_rows(values_only=True)
        ]
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


async def test_export_respects_filter_scope_and_masking(db, settings, tenant_a, tenant_b) -> None:
    await do_import(
        db, settings, tenant_a.sales,
        csv_bytes([["客户编号", "客户名称", "手机", "城市"], ["EXP-S1", "销售的客户", "13512345678", "宁波市"]]),
        "s.csv", "customer",
    )  # fmt: skip
    await do_import(
        db, settings, tenant_a.admin,
        csv_bytes([["客户编号", "客户名称", "手机", "城市"], ["EXP-A1", "管理员的客户", "13512340000", "宁波市"]]),
        "a.csv", "customer",
    )  # fmt: skip
    await do_import(
        db, settings, tenant_b.admin,
        csv_bytes([["客户编号", "客户名称", "城市"], ["EXP-B1", "B的客户", "宁波市"]]), "b.csv", "customer",
    )  # fmt: skip
    city = {"city": {"eq": "宁波市"}}
    rows = await run_export(
        db, settings, tenant_a.admin, "customer", filter=city, columns=["code", "phone"]
    )
    assert rows[0] == ["code", "phone"]
    assert sorted(r[0] for r in rows[1:]) == ["EXP-A1", "EXP-S1"]  # never tenant B's
    rep = await run_export(
        db, settings, tenant_a.sales, "customer", filter=city, columns=["code", "phone"], fmt="xlsx"
    )
    assert rep[1:] == [["EXP-S1", "+8613512345678"]]  # a rep exports only its own customers
    masked = Principal(tenant_a.admin.user_id, tenant_a.ref, Role.admin,
                       scopes=frozenset({"customer:read", "customer:export"}))  # fmt: skip
    assert not masked.sees_personal_data
    rows = await run_export(
        db, settings, masked, "customer", filter=city, columns=["code", "phone"]
    )
    assert dict(rows[1:])["EXP-A1"] == "+86135****0000"


async def test_export_refuses_without_permission_and_bad_columns(db, tenant_a) -> None:
    viewer = Principal(uuid.uuid4(), tenant_a.ref, Role.viewer)
    async with db.tenant(tenant_a.ref).transaction() as session:
        with pytest.raises(Exception, match="cannot export"):
            await exports.start(
                session, viewer, "customer", filter_spec=None, fmt="csv", columns=None
            )
        with pytest.raises(Exception, match="no such column"):
            await exports.start(
                session,
                tenant_a.admin,
                "customer",
                filter_spec=None,
                fmt="csv",
                columns=["search_text"],
            )


async def test_file_of_one_tenant_is_not_usable_from_another(
    db, settings, tenant_a, tenant_b
) -> None:
    file_id = await upload(db, settings, tenant_a.admin, csv_bytes(CHINESE), "iso.csv")
    async with db.tenant(tenant_b.ref).transaction() as session:
        with pytest.raises(Exception, match="not found"):
            await imports.start(
                session, tenant_b.admin, settings, file_id, "customer", None, dry_run=True
            )
        with pytest.raises(Exception, match="not found"):
            await files.get(session, tenant_b.admin, file_id)
    # The bytes sit under tenant A's folder only.
    assert Path(files.path_of(settings, tenant_a.ref, file_id)).exists()
    assert not Path(files.path_of(settings, tenant_b.ref, file_id)).exists()


async def test_sales_cannot_import_products(db, settings, tenant_a) -> None:
    file_id = await upload(
        db, settings, tenant_a.sales, csv_bytes([["code", "name"], ["P-S", "x"]]), "p.csv"
    )
    async with db.tenant(tenant_a.ref).transaction() as session:
        with pytest.raises(Exception, match="cannot create"):
            await imports.start(
                session, tenant_a.sales, settings, file_id, "product", None, dry_run=False
            )
