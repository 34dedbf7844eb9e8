"""The worker process: binds every declared actor to a Redis broker and runs them until SIGTERM.

Async actors all run on the one event loop owned by Dramatiq's ``AsyncIO`` middleware; the
database engine is created lazily on that loop (asyncpg connections belong to the loop that opened
them) and disposed on it at shutdown, before the middleware stops the loop.

On SIGTERM or SIGINT the worker stops fetching, lets running messages finish for up to
``CRM_WORKER__SHUTDOWN_GRACE_SECONDS`` and puts prefetched ones back on their queues. Deployments
should allow a little more than that before a hard kill (Kubernetes: terminationGracePeriodSeconds).
A message still running when the grace period ends is not acknowledged: it stays in this worker's
Redis ack set and is handed to another worker once this one's heartbeat times out
(``CRM_WORKER__HEARTBEAT_TIMEOUT_MS``), so it runs again rather than being lost (actors are
idempotent). tests/platform/test_worker_shutdown.py proves both paths with a real process.

Health: with ``CRM_WORKER__HEALTH_PORT`` set, ``/healthz`` (the worker threads are alive) and
``/readyz`` (PostgreSQL, Redis, migrations) answer on that port (``crm_core.health``).
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from types import FrameType
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Retries

from crm_core.db.engine import Database
from crm_core.health import start_health_server
from crm_core.messaging.actors import bind_all
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import Dispatcher
from crm_core.metrics import JobMetrics, observe_queue_depth
from crm_core.settings import Settings, load_settings
from crm_core.telemetry import Telemetry, setup_telemetry
from crm_core.telemetry import configure_logging as configure_process_logging

log = logging.getLogger("crm_worker")

# Every module that declares actors, imported by name so the list is explicit and complete.
ACTOR_MODULES: tuple[str, ...] = (
    "crm_core.cleansing.tasks",
    "crm_core.backups.tasks",
    "crm_core.jobs.tasks",
    "crm_core.mail.tasks",
    "crm_core.dedup.tasks",
    "crm_core.surveys.tasks",
    "crm_core.imports.tasks",
    "crm_core.exports.tasks",
    "crm_core.pool.tasks",
)
# Dramatiq's default keeps 1,000 × threads delayed messages (retries) in memory; a killed worker
# strands them until its heartbeat times out, so keep far fewer (see pitfalls.md).
DELAY_PREFETCH_PER_THREAD = 20
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Runtime:
    """What actors get besides their tenant: settings, the database, a dispatcher for follow-ups."""

    def __init__(
        self, settings: Settings, dispatcher: Dispatcher, telemetry: Telemetry | None = None
    ) -> None:
        self.settings = settings
        self._dispatcher = dispatcher
        self._telemetry = telemetry
        self._database: Database | None = None
        self.queue_depth_client: Any = None

    async def database(self) -> Database:
        # No lock needed: this runs only on the event-loop thread and does not await before the
        # assignment, so two actors can never both create an engine.
        if self._database is None:
            self._database = Database.create(self.settings)
            if self._telemetry is not None:
                self._telemetry.instrument_engine(self._database.engine)
        return self._database

    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    async def aclose(self) -> None:
        if self._database is not None:
            database, self._database = self._database, None
            await database.dispose()
            log.info("database connections closed")


class DisposeDatabase(dramatiq.Middleware):
    """Closes the pool on the actors' loop once the worker threads are done.

    Added after ``AsyncIO``: Dramatiq runs ``after_*`` hooks in reverse order, so this one runs
    while the loop is still alive.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            return
        try:
            loop_thread.run_coroutine(self._runtime.aclose())
        except Exception:
            log.exception("could not dispose of the database engine")


def load_actor_modules() -> None:
    for name in ACTOR_MODULES:
        importlib.import_module(name)


def build_worker(
    settings: Settings, telemetry: Telemetry | None = None
) -> tuple[dramatiq.Worker, Runtime]:
    broker = build_broker(settings)
    # Before importing actor modules, in case one declares an actor the plain Dramatiq way.
    dramatiq.set_broker(broker)
    runtime = Runtime(settings, BrokerDispatcher(broker), telemetry)
    broker.add_middleware(DisposeDatabase(runtime))
    if telemetry is not None:
        # Before Retries, so its after-hooks run after Retries has marked dead letters.
        broker.add_middleware(JobMetrics(telemetry.meter("crm.jobs")), before=Retries)
    load_actor_modules()
    bind_all(broker, runtime)
    if telemetry is not None and telemetry.meter_provider is not None:
        runtime.queue_depth_client = observe_queue_depth(
            telemetry.meter("crm.queues"),
            settings.require_redis_url(),
            broker.namespace,
            broker.get_declared_queues(),
        )
    threads = settings.worker.threads
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    worker.delay_prefetch = threads * DELAY_PREFETCH_PER_THREAD
    return worker, runtime


def configure_logging(settings: Settings, service_name: str = "crm-worker") -> None:
    configure_process_logging(settings, service_name=service_name)


def worker_liveness(worker: dramatiq.Worker) -> dict[str, Any]:
    """Alive while every worker thread and consumer thread still runs."""
    threads = list(worker.workers)
    consumers = list(worker.consumers.values())
    alive = sum(t.is_alive() for t in threads)
    consuming = sum(c.is_alive() for c in consumers)
    ok = alive == len(threads) and consuming == len(consumers)
    return {
        "status": "ok" if ok else "failing",
        "worker_threads": {"alive": alive, "total": len(threads)},
        "consumers": {"alive": consuming, "total": len(consumers)},
    }


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def run(settings: Settings | None = None) -> int:
    """Run a worker until SIGTERM/SIGINT; returns the process exit code."""
    settings = settings or load_settings()
    configure_logging(settings)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Only record it: logging from a signal handler can interleave with the interrupted code.
        received.append(signum)
        stop.set()

    telemetry = setup_telemetry(settings, service_name="crm-worker")
    worker, runtime = build_worker(settings, telemetry)
    previous: dict[signal.Signals, Any] = {s: signal.signal(s, on_signal) for s in _STOP_SIGNALS}
    health = None
    try:
        worker.start()
        health = start_health_server(
            settings, role="worker", liveness=lambda: worker_liveness(worker)
        )
        log.info("worker started: queues %s", sorted(worker.broker.get_declared_queues()))
        try:
            # A timed wait keeps the main thread responsive to signals on every platform.
            while not stop.wait(1.0):
                pass
            log.info("received %s, stopping", signal.Signals(received[0]).name)
        finally:
            # A second signal during the graceful stop gets the default behaviour (exit now).
            _restore(previous)
            worker.stop(timeout=settings.worker.shutdown_grace_seconds * 1000)
    finally:
        _restore(previous)
        if health is not None:
            health.stop()
    telemetry.shutdown()
    if runtime.queue_depth_client is not None:
        runtime.queue_depth_client.close()
    log.info("worker stopped")
    return 0
