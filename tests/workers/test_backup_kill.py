"""``kill -9`` of a worker in the middle of a backup job: the catalogue never shows a backup as good
that is not complete, and the job's next attempt (after the sweep) makes a complete one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from crmtest import make_tenant
from jobhelpers import FAST_JOBS, load_jobs, wait_finished

from crm_core.backups import requests, restore, service
from crm_core.backups.models import BackupStatus
from crm_core.backups.storage import local_root
from crm_core.customers import service as customers
from crm_core.db import backup_sql
from crm_core.db.engine import Database
from crm_core.jobs.models import JobStatus
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.settings import Settings

pytestmark = pytest.mark.slow


async def _wait_status(
    db: Database, backup_id: Any, status: BackupStatus, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await service.get_backup(db, backup_id, tenant_id=None)
        if row.status is status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"backup never became {status}")


async def test_kill_9_mid_backup_never_leaves_a_good_looking_backup(
    db: Database, settings: Settings, spawn: Any, redis_namespace: str
) -> None:
    tenant = await make_tenant(db, "bk-kill")
    async with unit_of_work(db.tenant(tenant.ref), NullDispatcher()) as session:
        await customers.create(
            session, tenant.admin, {"code": "K-1", "name": "Kill Test", "kind": "company"}
        )
    ns = f"{redis_namespace}-bkill"
    broker = build_broker(settings, namespace=ns)
    env = {**FAST_JOBS, "CRM_BACKUPS__LOCAL_DIR": str(local_root(settings))}
    # A restore-like exclusive hold on the tenant: the backup marks itself running, then waits
    # for its snapshot lock — the worker is killed there.
    holder = await backup_sql.connect(settings.require_database_url())
    try:
        assert await backup_sql.try_lock(holder, backup_sql.tenant_lock(tenant.ref.id))
        sched = spawn("crm_worker.scheduler", ns, **env)
        worker = spawn("crm_worker", ns, **env)
        worker.wait_for("worker started")
        async with unit_of_work(db.tenant(tenant.ref), BrokerDispatcher(broker)) as session:
            asked = await requests.create(session, settings, tenant.admin)
        await _wait_status(db, asked.backup.id, BackupStatus.running)
        worker.proc.kill()
        worker.proc.wait()
        row = await service.get_backup(db, asked.backup.id, tenant_id=None)
        assert row.status is BackupStatus.running and row.checksum is None
        assert not (Path(urlparse(row.location).path) / "manifest.json").exists()
        await backup_sql.unlock(holder, backup_sql.tenant_lock(tenant.ref.id))

        worker = spawn("crm_worker", ns, **env)
        worker.wait_for("worker started")
        try:
            [job] = await wait_finished(db, tenant.ref, [asked.job.id], timeout=60)
        except AssertionError:
            raise AssertionError(sched.log()[-4000:] + "\n-----\n" + worker.log()[-4000:]) from None
        assert job.status is JobStatus.succeeded, (job.status, job.attempts, job.error)
        assert job.attempts >= 2
        done = await service.get_backup(db, asked.backup.id, tenant_id=None)
        assert done.status is BackupStatus.succeeded and done.row_count and done.row_count >= 1
        report = await restore.verify(db, settings, done.id, tenant_id=tenant.ref.id)
        assert report.ok, report.problems
        assert (await load_jobs(db, tenant.ref, [asked.job.id]))[0].result["backup_id"] == str(
            done.id
        )
    finally:
        await holder.close()
        broker.close()
