"""End-to-end jobs/s: enqueue N ``jobs.selftest`` jobs (row + durable outbox row + message, in
batches of one transaction each), run them on one real worker process, and time until every row
says ``succeeded``. Prints enqueue rate and end-to-end rate.

    .venv/bin/python bench/jobs.py [N] [worker threads]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))
from _common import scratch_database

from crm_core.identity.principal import Principal
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job, JobStatus
from crm_core.jobs.tasks import SELFTEST
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import unit_of_work
from crm_core.tenants import service as tenants

BATCH = 100


async def main(n: int, threads: int) -> None:
    async with scratch_database() as (settings, db):
        tenant, _ = await tenants.create(db, tenants.TenantInput(slug="bench-jobs", name="Bench"))
        from crm_core.tenancy import TenantRef

        ref = TenantRef(tenant.id, tenant.slug)
        who = Principal.system(ref)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(
            CRM_ENVIRONMENT="test",
            CRM_DATABASE_URL=settings.require_database_url(),
            CRM_REDIS_URL=settings.require_redis_url(),
            CRM_WORKER__NAMESPACE=settings.worker.namespace,
            CRM_WORKER__THREADS=str(threads),
            CRM_LOG_LEVEL="WARNING",
        )
        log = Path(tempfile.mkdtemp()) / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "crm_worker"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        broker = build_broker(settings)
        dispatcher = BrokerDispatcher(broker)
        try:
            await asyncio.sleep(3)  # worker start-up
            tdb = db.tenant(ref)
            started = time.perf_counter()
            for i in range(0, n, BATCH):
                async with unit_of_work(tdb, dispatcher) as session:
                    for _ in range(min(BATCH, n - i)):
                        await jobs.enqueue(session, who, SELFTEST, {})
            enqueued = time.perf_counter() - started
            while True:
                async with tdb.read() as session:
                    done = (
                        await session.execute(
                            select(func.count()).where(Job.status == JobStatus.succeeded)
                        )
                    ).scalar_one()
                if done >= n:
                    break
                await asyncio.sleep(0.05)
            total = time.perf_counter() - started
        finally:
            broker.close()
            worker.terminate()
            worker.wait(timeout=30)
        print(f"jobs: {n}, worker threads: {threads} (one process)")
        print(
            f"enqueue (row + outbox + message, {BATCH} per transaction): {n / enqueued:,.0f} jobs/s"
        )
        print(f"end to end (enqueue → succeeded row): {n / total:,.0f} jobs/s ({total:.2f} s)")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    asyncio.run(main(count, threads))
