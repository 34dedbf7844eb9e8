"""Liveness and readiness, the same for the gateway, the worker and the scheduler.

``/healthz`` (liveness) answers from the process alone: it never touches PostgreSQL or Redis, so
an outage of either does not make Kubernetes restart every pod at once.

``/readyz`` (readiness) answers 200 only when this process can do its work:

- PostgreSQL answers ``SELECT 1`` and Redis answers ``PING``, each within ``timeout`` seconds;
- the ``core`` schema is at this code's head revision (or *ahead* of it: during a rolling upgrade
  the pre-upgrade hook has already migrated, and the old pods must keep serving);
- every provisioned tenant is at head too. A tenant that is behind is named in the body with its
  revision. It makes the answer 503 only with ``?strict=1`` (used by deploy checks and the
  migration job's verification): one tenant whose migration failed must not take every gateway
  out of the load balancer and so stop all the others. The default answer then says
  ``"status": "degraded"`` with code 200.

The tenant scan reads every tenant's version table in a few ``UNION ALL`` statements; its result is
kept for ``tenant_cache_seconds`` so a probe every few seconds costs almost nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core.db import migrate
from crm_core.settings import Settings


@dataclass
class _TenantScan:
    at: float
    result: migrate.MigrationStatus


@dataclass
class ReadinessChecker:
    """Runs the checks; owns nothing (the caller's engine and Redis client are borrowed)."""

    engine: AsyncEngine
    redis: Redis
    timeout: float = 2.0
    tenant_cache_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _scan: _TenantScan | None = field(default=None, init=False)
    _lock: asyncio.Lock | None = field(default=None, init=False)

    async def _postgres(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                async with self.engine.connect() as conn:
                    await conn.execute(select(1))
        except Exception as exc:
            return {"ok": False, "error": _describe(exc)}
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}

    async def _redis(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                await self.redis.ping()
        except Exception as exc:
            return {"ok": False, "error": _describe(exc)}
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}

    async def _migrations(self) -> dict[str, Any]:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # concurrent probes share one scan
            now = self.clock()
            if self._scan is None or now - self._scan.at >= self.tenant_cache_seconds:
                try:
                    async with asyncio.timeout(self.timeout * 5):
                        status = await migrate.migration_status(self.engine)
                except Exception as exc:
                    return {"ok": False, "error": _describe(exc)}
                # Only a clean answer is cached: a behind tenant is re-read next time, so the
                # probe turns green as soon as its migration lands.
                self._scan = _TenantScan(now, status) if status.ok else None
                result = status
            else:
                result = self._scan.result
        return result.as_json()

    async def check(self, *, strict: bool = False) -> tuple[int, dict[str, Any]]:
        postgres, redis = await asyncio.gather(self._postgres(), self._redis())
        checks: dict[str, Any] = {"postgres": postgres, "redis": redis}
        if postgres["ok"]:
            checks["migrations"] = await self._migrations()
        else:
            checks["migrations"] = {"ok": False, "error": "postgres unreachable"}
        migrations = checks["migrations"]
        infra_ok = postgres["ok"] and redis["ok"] and migrations.get("core", {}).get("ok", False)
        tenants_ok = migrations.get("ok", False)
        if infra_ok and tenants_ok:
            status, code = "ok", 200
        elif infra_ok:
            status, code = "degraded", 503 if strict else 200
        else:
            status, code = "unavailable", 503
        return code, {"status": status, "checks": checks}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    # Connection errors can quote the URL; keep only the class and the first line.
    message = str(exc).splitlines()[0] if str(exc) else ""
    for marker in ("postgresql://", "postgresql+asyncpg://", "redis://", "rediss://"):
        if marker in message:
            message = message.split(marker)[0] + "<url>"
    return f"{type(exc).__name__}: {message}"[:300]


Liveness = Callable[[], dict[str, Any]]
"""The process's own state; anything but ``{"status": "ok", ...}`` makes ``/healthz`` a 503."""


def health_routes(get_checker: Callable[[], ReadinessChecker], liveness: Liveness) -> list[Any]:
    """``/healthz`` and ``/readyz`` as Starlette routes (the gateway mounts the same two)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def healthz(request: Request) -> Response:
        body = liveness()
        return JSONResponse(body, status_code=200 if body.get("status") == "ok" else 503)

    async def readyz(request: Request) -> Response:
        strict = request.query_params.get("strict", "") in ("1", "true", "yes")
        code, body = await get_checker().check(strict=strict)
        return JSONResponse(body, status_code=code)

    return [Route("/healthz", healthz), Route("/readyz", readyz)]


class HealthServer:
    """``/healthz`` and ``/readyz`` for the worker and the scheduler, on ``CRM_WORKER__HEALTH_PORT``.

    A uvicorn server on its own thread and event loop, with its own one-connection engine and
    Redis client: the probes keep answering while every worker thread is busy, and they never
    borrow a connection that a job needs. Uvicorn installs no signal handlers off the main
    thread, so the process's own SIGTERM handling is untouched.
    """

    def __init__(self, settings: Settings, *, role: str, liveness: Liveness) -> None:
        self._settings = settings
        self._role = role
        self._liveness = liveness
        self._thread: Any = None
        self._server: Any = None

    def _app(self) -> Any:
        from contextlib import asynccontextmanager

        from starlette.applications import Starlette

        from crm_core.db.engine import create_engine_from_settings

        holder: dict[str, ReadinessChecker] = {}
        settings = self._settings.model_copy(
            update={"db": self._settings.db.model_copy(update={"pool_size": 1, "max_overflow": 1})}
        )

        @asynccontextmanager
        async def lifespan(app: Any) -> Any:
            engine = create_engine_from_settings(settings)
            redis = Redis.from_url(settings.require_redis_url(), socket_timeout=2.0)
            holder["checker"] = ReadinessChecker(engine, redis)
            try:
                yield
            finally:
                await redis.aclose()
                await engine.dispose()

        def liveness() -> dict[str, Any]:
            return {**self._liveness(), "role": self._role}

        return Starlette(
            routes=health_routes(lambda: holder["checker"], liveness), lifespan=lifespan
        )

    def start(self) -> None:
        import threading

        import uvicorn

        config = uvicorn.Config(
            self._app(),
            host=self._settings.worker.health_host,
            port=self._settings.worker.health_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="health", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        self._server = None


def start_health_server(
    settings: Settings, *, role: str, liveness: Liveness
) -> HealthServer | None:
    """Start the listener when ``CRM_WORKER__HEALTH_PORT`` is set; None otherwise."""
    if not settings.worker.health_port:
        return None
    server = HealthServer(settings, role=role, liveness=liveness)
    server.start()
    return server
