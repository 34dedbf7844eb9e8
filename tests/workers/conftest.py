"""Worker fixtures: a real ``python -m crm_worker`` process on the test database and Redis.

The worker tests use their own Redis namespace (under the session's, so the session clean-up
removes it): messages the API tests enqueue never reach this worker, and "the queue is empty"
means "our message was handled".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from crm_core.customers import service as customers
from crm_core.db.engine import Database
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def worker_namespace(redis_namespace: str) -> str:
    return f"{redis_namespace}-w"


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(settings.require_redis_url())
    yield client
    client.close()


@pytest.fixture(scope="session")
def dispatcher(settings: Settings, worker_namespace: str) -> Iterator[BrokerDispatcher]:
    broker = build_broker(settings, namespace=worker_namespace)
    yield BrokerDispatcher(broker)
    broker.close()


def process_env(settings: Settings, namespace: str, **extra: str) -> dict[str, str]:
    """The environment of a child process: only our ``CRM_`` settings, none inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_ENVIRONMENT="test",
        CRM_DATABASE_URL=settings.require_database_url(),
        CRM_REDIS_URL=settings.require_redis_url(),
        CRM_WORKER__NAMESPACE=namespace,
        CRM_DB__POOL_SIZE="2",
        **extra,
    )
    return env


def wait_for_line(log_path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log_path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in the process log:\n{log_path.read_text(errors='replace')}")


def stop_process(proc: subprocess.Popen[bytes], timeout: float) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


class ChildProcess:
    """A ``python -m <module>`` child with its output in a file."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30) -> None:
        wait_for_line(self.log_path, text, self.proc, timeout)

    def terminate(self, timeout: float = 20) -> int:
        return stop_process(self.proc, timeout)


@pytest.fixture
def spawn(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., ChildProcess]]:
    """Start ``python -m module`` with the test settings and a Redis namespace; stopped at the end."""
    children: list[ChildProcess] = []

    def start(module: str, namespace: str, **env: str) -> ChildProcess:
        log_path = tmp_path_factory.mktemp("child") / "output.log"
        children.append(ChildProcess(module, process_env(settings, namespace, **env), log_path))
        return children[-1]

    yield start
    for child in children:
        child.terminate()


@pytest.fixture(scope="module")
async def lookalikes(db: Database, tenant_a: Any, tenant_b: Any) -> dict[str, uuid.UUID]:
    """The same customer (name, code, phone, e-mail) in both tenants, made through the service."""
    data = {
        "code": "C-LOOK-1",
        "name": "上海明辉贸易有限公司",
        "kind": "company",
        "phone": "021 6888 1234",
        "email": "sales@minghui.cn",
        "address_line": "上海市浦东新区张江路1号",
        "owner_id": None,
    }
    ids = {}
    for key, tenant in (("a", tenant_a), ("b", tenant_b)):
        async with unit_of_work(db.tenant(tenant.ref), NullDispatcher()) as session:
            ids[key] = (await customers.create(session, tenant.admin, data)).id
    return ids


@pytest.fixture(scope="module")
def worker_process(
    db: object,  # the database must exist (and be migrated) before the worker connects
    settings: Settings,
    worker_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ChildProcess]:
    env = process_env(
        settings,
        worker_namespace,
        CRM_WORKER__THREADS="2",
        CRM_WORKER__SHUTDOWN_GRACE_SECONDS="10",
        CRM_WORKER__HEARTBEAT_TIMEOUT_MS="5000",
    )
    worker = ChildProcess("crm_worker", env, tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        worker.wait_for("worker started")
        yield worker
    finally:
        worker.terminate()
