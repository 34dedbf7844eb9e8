"""Liveness and readiness of the gateway and the worker, with real failures.

- a scratch database with a real tenant, whose ``alembic_version`` is then set one revision back;
- Redis: a throwaway ``redis-server`` of our own on a free port, killed during the test (the
  machine's Redis is never touched);
- PostgreSQL: a TCP relay of our own in front of the real server, closed during the test (the
  machine's PostgreSQL is never touched), or an unreachable port.

Every JSON body is printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from smtptest import free_port
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.db import migrate
from crm_core.db.engine import Database, async_url
from crm_core.messaging.outbox import NullDispatcher
from crm_core.settings import Settings
from crm_core.tenancy import schema_for
from crm_core.tenants import service as tenants

ADMIN_URL = os.environ.get("CRM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]


def show(label: str, code: int, body: Any) -> None:
    print(f"\n--- {label}: HTTP {code}\n{json.dumps(body, indent=2)}")


# --- Our own servers ---------------------------------------------------------------------------


class OwnRedis:
    """A throwaway redis-server on a free port, nothing on disk; we start and stop it."""

    def __init__(self, tmp: Path) -> None:
        exe = shutil.which("redis-server") or shutil.which("valkey-server")
        if exe is None:
            pytest.skip("no redis-server binary")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError("own redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Relay:
    """A TCP relay to PostgreSQL; ``close()`` refuses new connections and cuts existing ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()


# --- A scratch database with a tenant one revision behind --------------------------------------


@pytest.fixture(scope="module")
async def scratch(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    name = f"crm_health_{secrets.token_hex(4)}"
    admin = create_async_engine(async_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(async_url(ADMIN_URL)).set(database=name).render_as_string(hide_password=False)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=url,
        redis_url=REDIS_URL,
        data_dir=tmp_path_factory.mktemp("health-data"),
        worker={"namespace": f"crmtest-health-{secrets.token_hex(3)}"},
    )
    db = Database.create(settings)
    try:
        await migrate.upgrade_core(db.engine)
        tenant, _ = await tenants.create(db, tenants.TenantInput(slug="laggard", name="Laggard"))
        yield {"name": name, "url": url, "settings": settings, "db": db, "tenant": tenant}
    finally:
        await db.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def previous_tenant_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrate._HERE / "tenant"))
    head = ScriptDirectory.from_config(cfg).get_revision(migrate.head_of("tenant"))
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


@contextlib.asynccontextmanager
async def set_tenant_revision(db: Database, tenant_id: Any, revision: str) -> AsyncIterator[None]:
    table = f'"{schema_for(tenant_id)}".alembic_version'
    async with db.engine.begin() as conn:
        await conn.execute(text(f"UPDATE {table} SET version_num = :r"), {"r": revision})
    try:
        yield
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(
                text(f"UPDATE {table} SET version_num = :r"), {"r": migrate.head_of("tenant")}
            )


@contextlib.asynccontextmanager
async def gateway(settings: Settings, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    from crm_api.app import create_app

    app = create_app(settings, dispatcher=NullDispatcher(), **kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client


async def get(client: httpx.AsyncClient, path: str, label: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(path)
    body = response.json()
    show(label, response.status_code, body)
    return response.status_code, body


# --- Gateway -----------------------------------------------------------------------------------


async def test_gateway_ready_then_tenant_behind(scratch: dict[str, Any]) -> None:
    settings, db, tenant = scratch["settings"], scratch["db"], scratch["tenant"]
    async with gateway(settings) as client:
        code, body = await get(client, "/healthz", "gateway /healthz")
        assert (code, body["status"]) == (200, "ok")
        code, body = await get(client, "/readyz", "gateway /readyz, all up")
        assert code == 200, body
        assert body["status"] == "ok"
        assert body["checks"]["migrations"]["tenants"]["checked"] == 1

    older = previous_tenant_revision()
    async with set_tenant_revision(db, tenant.id, older), gateway(settings) as client:
        code, body = await get(client, "/readyz", "gateway /readyz, a tenant behind")
        # One lagging tenant must not pull every gateway out of the load balancer...
        assert code == 200
        assert body["status"] == "degraded"
        tenants_view = body["checks"]["migrations"]["tenants"]
        assert tenants_view["behind"] == [{"tenant_id": str(tenant.id), "revision": older}]
        assert tenants_view["behind_count"] == 1
        assert body["checks"]["migrations"]["core"]["ok"] is True
        # ...but deploy checks ask strictly.
        code, body = await get(
            client, "/readyz?strict=1", "gateway /readyz?strict=1, tenant behind"
        )
        assert code == 503
        assert body["status"] == "degraded"


async def test_gateway_not_ready_when_its_redis_goes_down(
    scratch: dict[str, Any], tmp_path: Path
) -> None:
    own = OwnRedis(tmp_path)
    try:
        settings = scratch["settings"].model_copy(update={"redis_url": SecretStr(own.url)})
        async with gateway(settings) as client:
            code, _ = await get(client, "/readyz", "gateway /readyz, own redis up")
            assert code == 200
            own.stop()
            code, body = await get(client, "/readyz", "gateway /readyz, redis down")
            assert code == 503
            assert body["status"] == "unavailable"
            assert body["checks"]["redis"]["ok"] is False
            assert body["checks"]["postgres"]["ok"] is True
            assert "redis://" not in json.dumps(body)  # no URL (or password) in the answer
            code, body = await get(client, "/healthz", "gateway /healthz, redis down")
            assert code == 200  # liveness does not depend on Redis: no restart storm
    finally:
        own.stop()


async def test_gateway_not_ready_when_postgres_goes_down(scratch: dict[str, Any]) -> None:
    real = make_url(scratch["url"])
    relay = Relay(real.host or "127.0.0.1", real.port or 5432)
    await relay.start()
    url = real.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    settings = scratch["settings"].model_copy(update={"database_url": SecretStr(url)})
    try:
        async with gateway(settings) as client:
            code, _ = await get(client, "/readyz", "gateway /readyz via relay")
            assert code == 200
            await relay.close()
            code, body = await get(client, "/readyz", "gateway /readyz, postgres down")
            assert code == 503
            assert body["status"] == "unavailable"
            assert body["checks"]["postgres"]["ok"] is False
            assert body["checks"]["redis"]["ok"] is True
            assert body["checks"]["migrations"] == {"ok": False, "error": "postgres unreachable"}
            code, _ = await get(client, "/healthz", "gateway /healthz, postgres down")
            assert code == 200
    finally:
        with contextlib.suppress(Exception):
            await relay.close()


# --- Worker process (real ``python -m crm_worker``) ----------------------------------------------


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_ENVIRONMENT="test",
        CRM_DATABASE_URL=settings.require_database_url(),
        CRM_REDIS_URL=settings.require_redis_url(),
        CRM_WORKER__NAMESPACE=settings.worker.namespace,
        CRM_WORKER__THREADS="1",
        CRM_LOG_JSON="true",
    )
    env.update(extra)
    return env


def http_json(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:  # noqa: S310 - local test URL
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError):
            http_json(url)
            return
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered:\n{log.read_text(errors='replace')}")


@pytest.fixture
def run_worker(tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        env: dict[str, str], module: str = "crm_worker"
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"worker{len(procs)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", module], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        procs.append(proc)
        return proc, log

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_worker_health_listener(scratch: dict[str, Any], run_worker: Any) -> None:
    settings: Settings = scratch["settings"]
    port = free_port()
    proc, log = run_worker(worker_env(settings, CRM_WORKER__HEALTH_PORT=str(port)))
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", proc, log)
    code, body = http_json(f"{base}/healthz")
    show("worker /healthz", code, body)
    assert code == 200
    assert body["role"] == "worker"
    assert body["worker_threads"] == {"alive": 1, "total": 1}
    code, body = http_json(f"{base}/readyz")
    show("worker /readyz, all up", code, body)
    assert (code, body["status"]) == (200, "ok")

    proc.terminate()
    assert proc.wait(30) == 0
    # Structured logs: one JSON object a line, naming the service.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("service") == "crm-worker" for line in lines), log.read_text()


def test_worker_not_ready_without_postgres(scratch: dict[str, Any], run_worker: Any) -> None:
    settings: Settings = scratch["settings"]
    dead_pg = make_url(scratch["url"]).set(host="127.0.0.1", port=free_port())
    port = free_port()
    env = worker_env(
        settings,
        CRM_WORKER__HEALTH_PORT=str(port),
        CRM_DATABASE_URL=dead_pg.render_as_string(hide_password=False),
    )
    proc, log = run_worker(env)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc, log)
    code, body = http_json(f"http://127.0.0.1:{port}/readyz")
    show("worker /readyz, postgres unreachable", code, body)
    assert code == 503
    assert body["checks"]["postgres"]["ok"] is False
    assert body["checks"]["redis"]["ok"] is True
    code, body = http_json(f"http://127.0.0.1:{port}/healthz")
    assert code == 200  # the process itself is fine


def test_scheduler_health_listener(scratch: dict[str, Any], run_worker: Any) -> None:
    settings: Settings = scratch["settings"]
    port = free_port()
    env = worker_env(settings, CRM_WORKER__HEALTH_PORT=str(port))
    proc, log = run_worker(env, "crm_worker.scheduler")
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", proc, log)
    code, body = http_json(f"{base}/healthz")
    show("scheduler /healthz", code, body)
    assert (code, body["status"], body["role"]) == (200, "ok", "scheduler")
    code, body = http_json(f"{base}/readyz")
    show("scheduler /readyz", code, body)
    assert (code, body["status"]) == (200, "ok")
    proc.terminate()
    assert proc.wait(30) == 0
