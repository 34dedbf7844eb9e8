"""SIGTERM to a real worker process in the middle of jobs loses nothing.

The worker is ``crm_worker.main.run()`` in a child process, with one extra actor declared by the
script below (a job that sleeps, counting its starts and ends in Redis), on its own Redis
namespace. Two cases:

- jobs shorter than the grace period: the running ones finish (counted once), the prefetched ones
  go back to the queue, and a second worker does them: every job done exactly once;
- a job longer than the grace period: the process exits on time without acknowledging it; a
  second worker takes it over once the first one's heartbeat has timed out, so it is done (at
  least once, as Dramatiq promises; actors are idempotent).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import OutgoingMessage
from crm_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = "deploytest"
ACTOR = "deploytest.slow_job"

WORKER_SCRIPT = textwrap.dedent(
    f"""
    import asyncio, sys
    from redis.asyncio import Redis
    from crm_core.messaging.actors import system_actor

    @system_actor({ACTOR!r}, queue_name={QUEUE!r}, max_retries=0)
    async def slow_job(*, runtime, db, job_id: str, seconds: float) -> None:
        ns = runtime.settings.worker.namespace
        r = Redis.from_url(runtime.settings.require_redis_url())
        try:
            await r.hincrby(ns + ":started", job_id, 1)
            await asyncio.sleep(seconds)
            await r.hincrby(ns + ":done", job_id, 1)
        finally:
            await r.aclose()

    from crm_worker.main import run
    sys.exit(run())
    """
)


@pytest.fixture
def namespace() -> Iterator[str]:
    ns = f"crmtest-shutdown-{secrets.token_hex(4)}"
    yield ns
    client = redis_lib.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{ns}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def redis_client() -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def start_worker(
    tmp_path: Path, namespace: str
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    script = tmp_path / "worker_with_slow_job.py"
    script.write_text(WORKER_SCRIPT)
    procs: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(
            CRM_ENVIRONMENT="test",
            # Never connected to: the job touches Redis only (the runtime's engine is lazy).
            CRM_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/postgres",
            CRM_REDIS_URL=REDIS_URL,
            CRM_WORKER__NAMESPACE=namespace,
        )
        env.update(settings)
        log = (tmp_path / f"worker{len(procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, str(script)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for log in sorted(tmp_path.glob("worker*.log")):
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def send_jobs(namespace: str, seconds: float, count: int) -> list[str]:
    settings = Settings(_env_file=None, redis_url=REDIS_URL, worker={"namespace": namespace})  # type: ignore[call-arg]
    broker = build_broker(settings)
    ids = [uuid.uuid4().hex for _ in range(count)]
    try:
        dispatcher = BrokerDispatcher(broker)
        for job_id in ids:
            dispatcher.send(OutgoingMessage(ACTOR, QUEUE, {"job_id": job_id, "seconds": seconds}))
    finally:
        broker.close()
    return ids


def counts(client: redis_lib.Redis, key: str) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in client.hgetall(key).items()}


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigterm_finishes_running_jobs_and_requeues_the_rest(
    start_worker: Callable[..., subprocess.Popen[bytes]],
    namespace: str,
    redis_client: redis_lib.Redis,
) -> None:
    ids = send_jobs(namespace, seconds=2.0, count=8)
    worker = start_worker(CRM_WORKER__THREADS="2", CRM_WORKER__SHUTDOWN_GRACE_SECONDS="20")
    wait_until(lambda: len(counts(redis_client, f"{namespace}:started")) >= 2, 30, "jobs to start")
    worker.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert worker.wait(40) == 0
    took = time.monotonic() - stopped_at
    started, done = (
        counts(redis_client, f"{namespace}:started"),
        counts(redis_client, f"{namespace}:done"),
    )
    print(f"first worker: stopped in {took:.1f}s; started {len(started)}, done {len(done)}")
    # Every job that had started finished before the process exited...
    assert set(started) == set(done)
    assert 0 < len(done) < len(ids)
    # ...and the others are back on the queue (nothing held by the stopped worker).
    assert redis_client.llen(f"{namespace}:{QUEUE}") == len(ids) - len(done)
    assert not list(redis_client.scan_iter(f"{namespace}:__acks__.*"))

    second = start_worker(CRM_WORKER__THREADS="4")
    wait_until(lambda: len(counts(redis_client, f"{namespace}:done")) == len(ids), 60, "all jobs")
    second.send_signal(signal.SIGTERM)
    assert second.wait(40) == 0
    done = counts(redis_client, f"{namespace}:done")
    assert set(done) == set(ids)
    assert set(done.values()) == {1}  # each exactly once


def test_job_longer_than_the_grace_period_is_taken_over(
    start_worker: Callable[..., subprocess.Popen[bytes]],
    namespace: str,
    redis_client: redis_lib.Redis,
) -> None:
    [job_id] = send_jobs(namespace, seconds=6.0, count=1)
    fast = {"CRM_WORKER__THREADS": "1", "CRM_WORKER__HEARTBEAT_TIMEOUT_MS": "2000"}
    worker = start_worker(CRM_WORKER__SHUTDOWN_GRACE_SECONDS="1", **fast)
    wait_until(lambda: job_id in counts(redis_client, f"{namespace}:started"), 30, "the job")
    worker.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    worker.wait(30)
    took = time.monotonic() - stopped_at
    print(f"first worker exited {took:.1f}s after SIGTERM with the job unfinished")
    assert took < 6.0  # it did not wait for the job: the grace period bounds the stop
    assert job_id not in counts(redis_client, f"{namespace}:done")

    second = start_worker(**fast)
    wait_until(lambda: job_id in counts(redis_client, f"{namespace}:done"), 90, "the takeover")
    second.send_signal(signal.SIGTERM)
    second.wait(40)
    assert counts(redis_client, f"{namespace}:started")[job_id] == 2  # ran again, not lost
