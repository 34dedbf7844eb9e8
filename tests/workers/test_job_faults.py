"""Fault tests of the job machinery: ``kill -9`` of a worker mid-job (repeated), and Redis killed
and restarted with the append-only file. No job is lost; recovery comes within a minute."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from jobhelpers import FAST_JOBS, enqueue, load_jobs, start_worker, wait_finished
from pydantic import SecretStr
from smtptest import free_port

from crm_core.db.engine import Database
from crm_core.jobs.models import JobStatus
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.settings import Settings

pytestmark = pytest.mark.slow
KILL_ROUNDS = 3


async def _wait_running(db: Database, tenant: Any, ids: list[Any], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r.status is JobStatus.running for r in await load_jobs(db, tenant, ids)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no job started running")


async def test_kill_9_of_a_worker_mid_job_loses_no_job(
    db: Database, settings: Settings, tenant_a: Any, spawn: Any, redis_namespace: str
) -> None:
    ns = f"{redis_namespace}-kill"
    broker = build_broker(settings, namespace=ns)
    dispatcher = BrokerDispatcher(broker)
    try:
        scheduler = spawn("crm_worker.scheduler", ns, **FAST_JOBS)
        worker = spawn("crm_worker", ns, **FAST_JOBS)
        worker.wait_for("worker started")
        ids = await enqueue(db, dispatcher, tenant_a.admin, {"steps": 10, "step_ms": 150}, n=8)
        for _ in range(KILL_ROUNDS):
            await _wait_running(db, tenant_a.ref, ids)
            worker.proc.kill()  # SIGKILL: no shutdown, prefetched messages stay in its ack set
            worker.proc.wait()
            worker = spawn("crm_worker", ns, **FAST_JOBS)
            worker.wait_for("worker started")
        try:
            rows = await wait_finished(db, tenant_a.ref, ids, timeout=60)
        except AssertionError:
            print(scheduler.log()[-5000:])
            raise
        assert [r.status for r in rows] == [JobStatus.succeeded] * len(ids), [
            (r.status, r.attempts, r.error) for r in rows
        ]
        # At least the jobs running at each kill were taken over: a later attempt finished them.
        assert any(r.attempts >= 2 for r in rows)
        assert all(r.progress_done == 10 for r in rows)
    finally:
        broker.close()


class OwnRedis:
    """A redis-server of this test's own, with append-only persistence, in a temp folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or shutil.which("valkey-server")
        if binary is None:
            pytest.skip("no redis-server binary")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_lib.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis_lib.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


async def test_redis_killed_and_restarted_with_aof_loses_no_queued_job(
    db: Database,
    settings: Settings,
    tenant_a: Any,
    tmp_path: Path,
    redis_namespace: str,
) -> None:
    server = OwnRedis(tmp_path)
    server.start()
    mine = settings.model_copy(update={"redis_url": SecretStr(server.url)})
    ns = f"{redis_namespace}-aof"
    worker = None
    try:
        broker = build_broker(mine, namespace=ns)
        ids = await enqueue(db, BrokerDispatcher(broker), tenant_a.admin, {}, n=50)
        broker.close()
        await asyncio.sleep(1.5)  # appendfsync everysec: what was accepted a second ago is on disk
        server.kill()
        server.start()  # same folder: replays the append-only file
        worker = start_worker(mine, ns, tmp_path / "worker.log", **FAST_JOBS)
        rows = await wait_finished(db, tenant_a.ref, ids, timeout=60)
        assert [r.status for r in rows] == [JobStatus.succeeded] * len(ids)
        assert all(r.attempts == 1 for r in rows)  # each ran from its original message
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
        server.kill()
