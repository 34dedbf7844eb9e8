"""``crm import``, run as an operator runs it: a real process against the test database, through
the same service and job runner as GraphQL's ``startImport``."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from crmtest import make_tenant
from sqlalchemy import select

from crm_core.contacts.models import Contact
from crm_core.customers.models import Customer
from crm_core.db.engine import Database
from crm_core.imports.models import ImportRun, ImportStatus
from crm_core.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")


def crm(settings: Settings, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_ENVIRONMENT="test",
        CRM_DATABASE_URL=settings.require_database_url(),
        CRM_REDIS_URL=settings.require_redis_url(),
        CRM_DATA_DIR=str(settings.data_dir),
        CRM_WORKER__NAMESPACE=namespace,
        CRM_TRANSFER__CHUNK_ROWS="2",
    )
    return subprocess.run(
        [sys.executable, "-m", "crm_core", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


CUSTOMERS = [
    ["客户编号", "客户名称", "手机", "备注"],
    ["CLI-001", "命令行贸易有限公司", "13812340001", "不要导入的备注"],
    ["CLI-002", "终端机械厂", "0571-8888 0002", ""],
    ["CLI-BAD", "坏号码公司", "12", ""],
]


async def _customers(db: Database, tenant: object, prefix: str) -> dict[str, Customer]:
    async with db.tenant(tenant.ref).read() as session:  # type: ignore[attr-defined]
        rows = await session.execute(select(Customer).where(Customer.code.like(f"{prefix}%")))
        return {c.code: c for c in rows.scalars()}


async def test_import_customers_then_contacts_through_the_cli(
    db, settings, redis_namespace, tmp_path
) -> None:
    a = await make_tenant(db, f"icli{uuid.uuid4().hex[:6]}")
    b = await make_tenant(db, f"icli{uuid.uuid4().hex[:6]}")
    ns = f"{redis_namespace}-icli"
    path = write_csv(tmp_path / "客户.csv", CUSTOMERS)

    dry = crm(settings, ns, str(path), "--tenant", a.ref.slug, "--entity", "customers", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run succeeded: 3 rows, 2 created, 0 updated, 1 failed" in dry.stdout
    assert await _customers(db, a, "CLI-") == {}  # a dry run writes nothing

    done = crm(
        settings, ns, str(path), "--tenant", a.ref.slug, "--entity", "customers",
        "--mapping", "备注=", "--mapping", "客户名称=name",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "succeeded: 3 rows, 2 created, 0 updated, 1 failed" in done.stdout
    assert "客户编号 → code" in done.stderr  # the mapping used
    report = Path(done.stdout.split("error report: ", 1)[1].strip())
    lines = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert [(r["row"], r["column"]) for r in lines] == [("4", "手机")]
    made = await _customers(db, a, "CLI-")
    assert sorted(made) == ["CLI-001", "CLI-002"]
    assert made["CLI-001"].notes is None  # the column mapped to nothing was left out
    assert made["CLI-001"].phone == "+8613812340001"
    assert await _customers(db, b, "CLI-") == {}  # the other tenant got nothing
    async with db.tenant(a.ref).read() as session:
        runs = (await session.execute(select(ImportRun))).scalars().all()
    assert sorted(r.status for r in runs) == [ImportStatus.succeeded] * 2

    contacts = write_csv(
        tmp_path / "contacts.csv",
        [["客户编号", "姓名", "手机"], ["CLI-001", "张伟", "13900000001"]],
    )
    # Tenant B has no customer CLI-001: the row fails there (relations resolve per tenant).
    other = crm(settings, ns, str(contacts), "--tenant", b.ref.slug, "--entity", "contacts")
    assert other.returncode == 0, other.stderr
    assert "0 created, 0 updated, 1 failed" in other.stdout
    mine = crm(settings, ns, str(contacts), "--tenant", a.ref.slug, "--entity", "contacts")
    assert "1 created, 0 updated, 0 failed" in mine.stdout, mine.stdout + mine.stderr
    async with db.tenant(a.ref).read() as session:
        contact = (
            await session.execute(select(Contact).where(Contact.name == "张伟"))
        ).scalar_one()
    assert contact.customer_id == made["CLI-001"].id


async def test_bad_arguments_name_the_field(db, settings, redis_namespace, tmp_path) -> None:
    ns = f"{redis_namespace}-icli"
    path = write_csv(tmp_path / "c.csv", CUSTOMERS)
    cases = [
        (["--tenant", "no-such-tenant", "--entity", "customers"], "error: tenant: no tenant"),
        (["--tenant", "x", "--entity", "widgets"], "error: entity: one of customers"),
        (["--tenant", "x", "--entity", "customers", "--mapping", "nonsense"], "error: mapping.0:"),
    ]
    for args, message in cases:
        out = crm(settings, ns, str(path), *args)
        assert out.returncode == 2 and message in out.stderr, (args, out.stdout, out.stderr)
    t = await make_tenant(db, f"icli{uuid.uuid4().hex[:6]}")
    out = crm(
        settings, ns, str(path), "--tenant", t.ref.slug, "--entity", "customers",
        "--mapping", "没有这列=name",
    )  # fmt: skip
    assert out.returncode == 2 and "error: mapping.没有这列: no such column" in out.stderr
    missing = crm(
        settings, ns, str(tmp_path / "nope.csv"), "--tenant", t.ref.slug, "--entity", "leads"
    )
    assert missing.returncode == 2
