"""Exports of contacts and orders name their customer by code and name (what a person reads and
what an import matches on), not by its internal id; the id stays available when asked for."""

from __future__ import annotations

import csv
import io
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from crmtest import make_tenant

from crm_core.contacts import service as contacts
from crm_core.customers import service as customers
from crm_core.db.engine import Database
from crm_core.exports import service as exports
from crm_core.exports import tasks as export_tasks  # noqa: F401 - declares the job kind
from crm_core.files import service as files
from crm_core.identity.principal import Principal
from crm_core.jobs import service as jobs
from crm_core.jobs.runner import run_message
from crm_core.jobs.schemas import kind_of
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.orders import service as orders
from crm_core.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def export(
    db: Database, settings: Settings, who: Principal, entity: str, columns: list[str] | None = None
) -> list[list[str]]:
    async with unit_of_work(db.tenant(who.tenant), NullDispatcher()) as session:
        job = await exports.start(
            session, who, entity, filter_spec=None, fmt="csv", columns=columns
        )
    runtime = SimpleNamespace(settings=settings, dispatcher=NullDispatcher())
    await run_message(
        kind_of(exports.KIND), runtime, db,  # type: ignore[arg-type]
        tenant_id=str(who.tenant.id), job_id=str(job.id), attempt=1,
    )  # fmt: skip
    async with db.tenant(who.tenant).read() as session:
        done = await jobs.get(session, who, job.id)
    assert done is not None and done.status.value == "succeeded", done and done.error
    assert done.result is not None
    path = files.path_of(settings, who.tenant, uuid.UUID(done.result["file_id"]))
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


async def _world(db: Database, slug: str, code: str, name: str) -> tuple[Any, uuid.UUID]:
    t = await make_tenant(db, f"{slug}{uuid.uuid4().hex[:6]}")
    async with unit_of_work(db.tenant(t.ref), NullDispatcher()) as session:
        c = await customers.create(
            session, t.admin, {"code": code, "name": name, "kind": "company"}
        )
        await contacts.create(session, t.admin, c.id, {"name": "陈静", "title": "采购经理"})
        await orders.create(session, t.admin, c.id, {"number": f"SO-{code}"})
    return t, c.id


async def test_contact_and_order_exports_name_the_customer(db, settings) -> None:
    a, a_customer = await _world(db, "exa", "EXR-1", "宁波海天贸易有限公司")
    b, _ = await _world(db, "exb", "EXR-1", "另一家同编号公司")

    rows = await export(db, settings, a.admin, "contact")
    header, *lines = rows
    assert header[:3] == ["customer_code", "customer_name", "name"]
    assert [line[:3] for line in lines] == [["EXR-1", "宁波海天贸易有限公司", "陈静"]]
    assert str(a_customer) not in {cell for line in rows for cell in line}

    header, *lines = await export(db, settings, a.admin, "order")
    assert header[:3] == ["number", "customer_code", "customer_name"]
    assert [line[:3] for line in lines] == [["SO-EXR-1", "EXR-1", "宁波海天贸易有限公司"]]

    # Asked for by name, in any order, with the id next to them.
    chosen = await export(
        db, settings, a.admin, "contact", ["name", "customer_id", "customer_name"]
    )
    assert chosen == [["name", "customer_id", "customer_name"],
                      ["陈静", str(a_customer), "宁波海天贸易有限公司"]]  # fmt: skip

    # Tenant B's export names its own customer with the same code, never A's.
    _, *b_lines = await export(db, settings, b.admin, "contact", ["customer_code", "customer_name"])
    assert b_lines == [["EXR-1", "另一家同编号公司"]]


async def test_an_unknown_related_column_is_refused_by_field(db, tenant_a) -> None:
    async with db.tenant(tenant_a.ref).transaction() as session:
        with pytest.raises(Exception, match="no such column") as caught:
            await exports.start(
                session, tenant_a.admin, "contact", filter_spec=None, fmt="csv",
                columns=["name", "customer_city"],
            )  # fmt: skip
    assert caught.value.errors[0].field == "columns.1"  # type: ignore[attr-defined]
    # A customer's own export has no "customer_name" (it is not a related column there).
    async with db.tenant(tenant_a.ref).transaction() as session:
        with pytest.raises(Exception, match="no such column"):
            await exports.start(
                session, tenant_a.admin, "customer", filter_spec=None, fmt="csv",
                columns=["customer_name"],
            )  # fmt: skip
