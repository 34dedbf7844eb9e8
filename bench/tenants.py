"""Tenant provisioning (median of 100) and `crm db upgrade` over 200 tenants.

.venv/bin/python bench/tenants.py [--provision 100] [--upgrade 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

from _common import run, scratch_database

from crm_core.db import admin, migrate
from crm_core.tenants import service as tenants


async def main(provision: int, upgrade: int) -> None:
    async with scratch_database() as (_, db):
        times = []
        for i in range(provision):
            started = time.perf_counter()
            await tenants.create(db, tenants.TenantInput(slug=f"bench-{i}", name=f"Bench {i}"))
            times.append(time.perf_counter() - started)
        print(
            f"tenant provisioning ({provision}): median {statistics.median(times) * 1000:.0f} ms, "
            f"p90 {sorted(times)[int(len(times) * 0.9)] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
        )
        ids = [uuid.uuid4() for _ in range(upgrade)]
        for concurrency in (1, 4, 8):
            for tenant_id in ids:
                await admin.drop_tenant_schema(db.engine, tenant_id)
            started = time.perf_counter()
            outcomes = await migrate.upgrade_tenants(db.engine, ids, concurrency=concurrency)
            took = time.perf_counter() - started
            failed = sum(o.status == "failed" for o in outcomes)
            print(
                f"db upgrade of {upgrade} empty tenants, concurrency {concurrency}: {took:.1f} s ({failed} failed)"
            )
        started = time.perf_counter()
        outcomes = await migrate.upgrade_tenants(db.engine, ids, concurrency=4)
        took = time.perf_counter() - started
        at_head = sum(o.status == "at_head" for o in outcomes)
        print(f"db upgrade of {upgrade} tenants already at head: {took:.2f} s ({at_head} skipped)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--provision", type=int, default=100)
    parser.add_argument("--upgrade", type=int, default=200)
    args = parser.parse_args()
    run(main(args.provision, args.upgrade))
