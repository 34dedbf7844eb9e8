"""Backup and restore MB/s of one tenant, beside ``pg_dump -n`` / ``pg_restore`` of the same schema,
with 10 and with 1,000 tenants in the database.

    .venv/bin/python bench/backup.py [--customers 3000] [--tenants 10,1000]

MB/s counts the tenant's data as PostgreSQL streams it (the uncompressed COPY bytes), the same
amount for every tool. Our backup: one REPEATABLE READ snapshot, COPY binary per table, zstd level 3,
to a local folder; our restore: one transaction, TRUNCATE + COPY FREEZE per table, row counts and
checksums checked. pg_dump: custom format (its default compression), ``-n <schema>``; pg_restore:
``--clean --single-transaction`` into the same schema.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import asyncpg
from _common import scratch_database

from crm_core.backups import restore, service
from crm_core.db.backup_sql import dsn_of
from crm_core.demo.seed import seed_demo
from crm_core.tenancy import TenantRef, schema_for
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants import service as tenants


def pg_binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit(f"no {name} under /usr/lib/postgresql/*/bin")
    return found[-1]


def schema_ddl(settings, tenant_id: uuid.UUID) -> str:
    """The DDL of a migrated tenant schema (with its version row), to stamp out fillers fast:
    running the 14 migrations takes ~1 s a tenant, replaying their result a few ms."""
    out = subprocess.run(
        [pg_binary("pg_dump"), "--schema-only", "-n", schema_for(tenant_id),
         dsn_of(settings.require_database_url())],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    version = subprocess.run(
        [pg_binary("pg_dump"), "--data-only", "-t", f"{schema_for(tenant_id)}.alembic_version",
         dsn_of(settings.require_database_url())],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return (out + version).replace(schema_for(tenant_id), "@@SCHEMA@@")


async def clone_tenant(db, settings, template: str, slug: str) -> None:
    from datetime import UTC, datetime

    from crm_core.tenants.models import Tenant

    tenant_id = uuid.uuid4()
    lines = [
        line
        for line in template.replace("@@SCHEMA@@", schema_for(tenant_id)).splitlines()
        if not line.startswith("\\")  # psql meta-commands (\restrict)
    ]
    sql = "\n".join(lines)
    conn = await asyncpg.connect(dsn_of(settings.require_database_url()))
    try:
        async with conn.transaction():
            await conn.execute(sql.split("COPY ")[0])
            rev = sql.split("COPY ", 1)[1].split("\n")[1].strip()
            await conn.execute(
                f'INSERT INTO "{schema_for(tenant_id)}".alembic_version VALUES ($1)', rev
            )
    finally:
        await conn.close()
    async with db.core_transaction() as session:
        session.add(
            Tenant(
                id=tenant_id, slug=slug, name="Filler", settings={}, quotas={},
                provisioned_at=datetime.now(UTC),
            )
        )  # fmt: skip


async def one_round(db, settings, ref: TenantRef, label: str, work: Path) -> None:
    async with db.core_transaction() as session:
        row = await service.request_backup(session, settings, ref, created_by=None)
    t0 = time.perf_counter()
    done = await service.run_backup(db, settings, row.id)
    backup_s = time.perf_counter() - t0
    assert done is not None
    assert done.status.value == "succeeded", done.error
    manifest = await restore._read_manifest(settings, done)
    raw_mb = sum(t.raw_bytes for t in manifest.tables) / 1e6
    t0 = time.perf_counter()
    await restore.restore_into_tenant(db, settings, done.id, confirm=ref.slug, tenant_id=ref.id)
    restore_s = time.perf_counter() - t0

    dsn = dsn_of(settings.require_database_url())
    dump = work / f"{label}.dump"
    t0 = time.perf_counter()
    subprocess.run(
        [pg_binary("pg_dump"), "-Fc", "-n", schema_for(ref.id), "-f", str(dump), dsn], check=True
    )
    dump_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run(
        [pg_binary("pg_restore"), "--clean", "--if-exists", "--single-transaction",
         "-n", schema_for(ref.id), "-d", dsn, str(dump)],
        check=True,
    )  # fmt: skip
    pg_restore_s = time.perf_counter() - t0
    print(
        f"{label:>14}: data {raw_mb:7.1f} MB (COPY stream), ours {done.size_bytes / 1e6:6.1f} MB "
        f"zstd, pg_dump {dump.stat().st_size / 1e6:6.1f} MB\n"
        f"{'':>16}backup  ours {backup_s:6.2f} s = {raw_mb / backup_s:7.1f} MB/s   "
        f"pg_dump -n   {dump_s:6.2f} s = {raw_mb / dump_s:7.1f} MB/s\n"
        f"{'':>16}restore ours {restore_s:6.2f} s = {raw_mb / restore_s:7.1f} MB/s   "
        f"pg_restore   {pg_restore_s:6.2f} s = {raw_mb / pg_restore_s:7.1f} MB/s",
        flush=True,
    )


async def main(customers: int, counts: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        async with scratch_database(data_dir=work / "data") as (settings, db):
            t0 = time.perf_counter()
            await seed_demo(db, settings, slug="bench", customers=customers, password="x" * 12)
            async with db.core_session() as session:
                row = await tenants_repo.get_by_slug(session, "bench")
            assert row is not None
            ref = TenantRef(id=row.id, slug=row.slug)
            print(f"seeded {customers} customers in {time.perf_counter() - t0:.0f} s", flush=True)
            have = 1
            template: str | None = None
            for count in sorted(counts):
                t0 = time.perf_counter()
                while have < count:
                    if template is None:
                        first, _ = await tenants.create(
                            db, tenants.TenantInput(slug=f"filler-{have:05d}", name="Filler")
                        )
                        template = schema_ddl(settings, first.id)
                    else:
                        await clone_tenant(db, settings, template, f"filler-{have:05d}")
                    have += 1
                print(f"{count} tenants ready ({time.perf_counter() - t0:.0f} s)", flush=True)
                await one_round(db, settings, ref, f"{count} tenants", work)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--tenants", default="10,1000")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    asyncio.run(main(args.customers, [int(x) for x in args.tenants.split(",")]))
