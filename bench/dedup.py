"""Duplicate scan: precision, recall and F1 on the labelled set, and the scan time at scale.

    .venv/bin/python bench/dedup.py                 # 100,000 and 1,000,000 customers
    .venv/bin/python bench/dedup.py 20000           # any sizes

For each size: the labelled set is generated (``crm_core.dedup.benchmark``: about 10 % planted
duplicates; the blocking keys computed as the customer service does on every write), loaded with
COPY into a tenant schema of a scratch database, and scanned with ``scan_customers`` (pairs from
shared keys, scored, upserted into the review queue). Printed: generation and load times, the
pair count (blocking keeps it near-linear), the scan time, and precision/recall/F1 at the review
threshold (0.5) and stricter ones.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database
from sqlalchemy import select

from crm_core.db import migrate
from crm_core.dedup import scan
from crm_core.dedup.benchmark import evaluate, generate
from crm_core.dedup.models import DuplicateCandidate
from crm_core.tenancy import TenantRef, schema_for

COLUMNS = (
    "id", "code", "name", "kind", "phone", "phone_raw", "email", "province", "city", "district",
    "street", "dedup_keys", "tags", "lifecycle_stage", "preferred_products", "important_dates",
    "do_not_visit", "review_flags", "search_text", "search_public", "version",
)  # fmt: skip


async def one(n: int) -> None:
    t0 = time.perf_counter()
    data = generate(n)
    t_gen = time.perf_counter() - t0
    async with scratch_database() as (_settings, db):
        tenant = TenantRef(id=uuid.uuid4(), slug="bench")
        await migrate.upgrade_tenant(db.engine, tenant.id)
        t0 = time.perf_counter()
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            # One COPY of a million rows outlasts the application's statement timeout.
            await raw.driver_connection.execute("SET statement_timeout = 0")  # type: ignore[union-attr]
            records = [
                (r["id"], r["code"], r["name"], r["kind"], r["phone"], r["phone_raw"], r["email"],
                 r["province"], r["city"], r["district"], r["street"], r["dedup_keys"], [], "new",
                 [], "[]", "[]", "[]", "", "", 1)
                for r in data.records
            ]  # fmt: skip
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                "customers", schema_name=schema_for(tenant.id), records=records, columns=COLUMNS
            )
            await raw.driver_connection.execute(  # type: ignore[union-attr]
                f'ANALYZE "{schema_for(tenant.id)}".customers'
            )
            await conn.commit()
        t_load = time.perf_counter() - t0
        tdb = db.tenant(tenant)
        t0 = time.perf_counter()
        stats = await scan.scan_customers(tdb, refresh_keys=False, min_score=0.3, chunk=2000)
        t_scan = time.perf_counter() - t0
        t0 = time.perf_counter()
        seen, changed = await scan.refresh_customer_keys(tdb, chunk=2000)
        t_keys = time.perf_counter() - t0
        async with tdb.read() as session:
            rows = (
                await session.execute(
                    select(
                        DuplicateCandidate.left_id,
                        DuplicateCandidate.right_id,
                        DuplicateCandidate.score,
                    )
                )
            ).all()
    found = {frozenset((r.left_id, r.right_id)): r.score for r in rows}
    print(f"\n== {n:,} customers ({len(data.true_pairs):,} planted duplicate pairs)")
    print(f"generate + keys   {t_gen:8.1f} s  ({n / t_gen:,.0f} records/s)")
    print(f"COPY load         {t_load:8.1f} s")
    print(f"scan              {t_scan:8.1f} s  ({n / t_scan:,.0f} customers/s), "
          f"{stats.pairs:,} pairs scored ({stats.pairs / n:.2f} per customer), "
          f"{stats.candidates:,} candidates >= 0.3")  # fmt: skip
    print(f"key re-check      {t_keys:8.1f} s  ({seen:,} rows, {changed:,} changed)")
    for threshold in (0.5, 0.8, 0.95):
        m = evaluate(data, found, threshold)
        print(
            f"threshold {threshold:4.2f}    precision {m['precision']:.3f}  recall "
            f"{m['recall']:.3f}  F1 {m['f1']:.3f}  ({int(m['predicted']):,} pairs)"
        )


async def main(sizes: list[int]) -> None:
    for n in sizes:
        await one(n)


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]))
