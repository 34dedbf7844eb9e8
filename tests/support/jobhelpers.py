"""Helpers of the job and mail fault tests (imported by path-less name from this folder)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from crm_core.db.engine import Database
from crm_core.identity.principal import Principal
from crm_core.jobs import service as jobs
from crm_core.jobs.models import FINISHED, Job
from crm_core.jobs.tasks import SELFTEST
from crm_core.messaging.outbox import Dispatcher, unit_of_work
from crm_core.tenancy import TenantRef

# Short timings so that recovery is observable in seconds (production defaults are minutes).
FAST_JOBS = {
    "CRM_JOBS__HEARTBEAT_SECONDS": "0.5",
    "CRM_JOBS__STALE_AFTER_SECONDS": "3",
    "CRM_JOBS__MAINTENANCE_INTERVAL_SECONDS": "0.5",
    "CRM_JOBS__RELAY_AFTER_SECONDS": "1",
    "CRM_MAIL__SENDING_STALE_SECONDS": "2",
    "CRM_WORKER__HEARTBEAT_TIMEOUT_MS": "2000",
    "CRM_WORKER__THREADS": "2",
    "CRM_WORKER__SHUTDOWN_GRACE_SECONDS": "5",
}


async def enqueue(
    db: Database, dispatcher: Dispatcher, who: Principal, params: dict[str, Any], n: int = 1
) -> list[uuid.UUID]:
    ids = []
    async with unit_of_work(db.tenant(who.tenant), dispatcher) as session:
        for _ in range(n):
            ids.append((await jobs.enqueue(session, who, SELFTEST, params)).id)
    return ids


async def load_jobs(db: Database, tenant: TenantRef, ids: Iterable[uuid.UUID]) -> list[Job]:
    wanted = list(ids)
    async with db.tenant(tenant).read() as session:
        rows = (await session.execute(select(Job).where(Job.id.in_(wanted)))).scalars().all()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in wanted]


async def wait_finished(
    db: Database, tenant: TenantRef, ids: list[uuid.UUID], timeout: float = 60
) -> list[Job]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await load_jobs(db, tenant, ids)
        if all(r.status in FINISHED for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(
                f"jobs not finished in {timeout} s: {[(r.status, r.attempts, r.error) for r in rows]}"
            )
        await asyncio.sleep(0.2)


def start_worker(settings: Any, namespace: str, log_path: Any, **extra: str) -> Any:
    """A ``python -m crm_worker`` child on ``settings``' servers (for tests with their own Redis)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_ENVIRONMENT="test",
        CRM_DATABASE_URL=settings.require_database_url(),
        CRM_REDIS_URL=settings.require_redis_url(),
        CRM_WORKER__NAMESPACE=namespace,
        CRM_DB__POOL_SIZE="2",
    )
    env.update(extra)
    root = Path(__file__).resolve().parents[2]
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crm_worker"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while "worker started" not in Path(log_path).read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(Path(log_path).read_text(errors="replace"))
        time.sleep(0.1)
    return proc
