"""Import throughput: rows/s of a customers CSV through ``imports.run_import`` (COPY into staging,
then chunks through the customer service's validation, normalisation, search texts, dedup keys,
audit and lifecycle entries) against a raw ``COPY`` of the same file into a plain table, on the
same machine and server.

The CSV comes from the demo generator (``crm_core.demo.generate``), Chinese headers, 15 columns,
its deliberately invalid phones and e-mails included (they end in the error report).

    .venv/bin/python bench/import.py                 # 1,000,000 rows (about half an hour here)
    .venv/bin/python bench/import.py --rows 20000    # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import asyncpg
from _common import scratch_database
from sqlalchemy import select

from crm_core.db.backup_sql import dsn_of
from crm_core.demo.generate import generate_customers
from crm_core.identity import scopes
from crm_core.identity.principal import Principal
from crm_core.identity.service import create_user
from crm_core.imports import service as imports
from crm_core.imports import tasks as import_tasks
from crm_core.imports.models import ImportRun
from crm_core.jobs import service as jobs
from crm_core.jobs.runner import JobContext, _Heartbeat
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.tenancy import TenantRef
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Role

HEADER = {
    "code": "客户编号", "name": "客户名称", "kind": "客户类型", "industry": "行业", "grade": "客户等级",
    "tags": "标签", "source": "客户来源", "phone": "手机", "email": "邮箱", "website": "网站",
    "province": "省份", "city": "城市", "district": "区县", "street": "街道", "postal_code": "邮编",
}  # fmt: skip


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER.values())
        for demo in generate_customers(rows, seed=7):
            c = demo.customer
            out.writerow(
                [
                    "、".join(c[k]) if isinstance(c[k], list) else ("" if c[k] is None else c[k])
                    for k in HEADER
                ]
            )


async def raw_copy(url: str, path: Path) -> float:
    conn = await asyncpg.connect(dsn_of(url), server_settings={"statement_timeout": "0"})
    try:
        columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
        await conn.execute(f"CREATE TABLE bench_raw_copy ({columns})")
        started = time.perf_counter()
        with open(path, "rb") as f:
            await conn.copy_to_table("bench_raw_copy", source=f, format="csv", header=True)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_raw_copy")
        return elapsed
    finally:
        await conn.close()


async def main(rows: int, chunk: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="crm-bench-import-"))
    async with scratch_database(data_dir=data_dir, transfer={"chunk_rows": chunk}) as (
        settings,
        db,
    ):
        tenant, _ = await tenants.create(db, tenants.TenantInput(slug="bench", name="Bench"))
        ref = TenantRef(id=tenant.id, slug=tenant.slug)
        user = await create_user(
            db, email="admin@bench.cn", name="Admin", password="bench-password-1",
            tenant_slug="bench", role=Role.admin,
        )  # fmt: skip
        who = Principal(user.id, ref, Role.admin)
        csv_path = data_dir / "customers.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {rows:,} rows ({size_mb:.1f} MB) in {time.perf_counter() - t0:.1f} s")

        copy_s = await raw_copy(settings.require_database_url(), csv_path)
        print(f"raw COPY into a plain table: {copy_s:.1f} s, {rows / copy_s:,.0f} rows/s")

        async def chunks():  # the upload path: streamed to the tenant's files
            with open(csv_path, "rb") as f:
                while piece := f.read(1 << 20):
                    yield piece

        settings.transfer.max_upload_bytes = 10 * 1024**3
        tdb = db.tenant(ref)
        async with unit_of_work(tdb, NullDispatcher()) as session:
            from crm_core.files import service as files

            upload = await files.save_upload(
                session, who, settings, chunks(), filename="c.csv", content_type="text/csv"
            )
            run = await imports.start(
                session, who, settings, upload.id, "customer", None, dry_run=False
            )
        job_id = run.job_id
        assert job_id is not None
        async with tdb.transaction() as session:
            job = await jobs.claim(session, job_id, 1)
        ctx = JobContext(
            tenant=ref, principal=await scopes.resolve(db, who), job_id=job_id,
            params=dict(job.params), db=tdb, attempt=1, _beat=_Heartbeat(tdb, job_id, 1),
            runtime=SimpleNamespace(settings=settings, dispatcher=NullDispatcher()),  # type: ignore[arg-type]
        )  # fmt: skip
        started = time.perf_counter()
        result = await import_tasks.run_import(ctx)
        import_s = time.perf_counter() - started
        async with tdb.read() as session:
            staged_at = (
                await session.execute(select(ImportRun).where(ImportRun.id == run.id))
            ).scalar_one()
        print(
            f"import (staging COPY + merge in chunks of {chunk}): {import_s:.1f} s, "
            f"{rows / import_s:,.0f} rows/s; created {result['created']:,}, "
            f"failed {result['failed']:,} (in the error report), status {staged_at.status.value}"
        )
        print(f"import is {import_s / copy_s:.0f}x the time of a raw COPY of the same file")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.chunk))
