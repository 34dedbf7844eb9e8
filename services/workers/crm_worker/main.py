"""The worker process: binds every declared actor to a Redis broker and runs them until SIGTERM.

Async actors all run on the one event loop owned by Dramatiq's ``AsyncIO`` middleware; the
database engine is created lazily on that loop (asyncpg connections belong to the loop that opened
them) and disposed on it at shutdown, before the middleware stops the loop.

On SIGTERM or SIGINT the worker stops fetching, lets running messages finish for up to
``CRM_WORKER__SHUTDOWN_GRACE_SECONDS`` and puts prefetched ones back on their queues. Deployments
should allow a little more than that before a hard kill (Kubernetes: terminationGracePeriodSeconds).
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

from crm_core.db.engine import Database
from crm_core.messaging.actors import bind_all
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import Dispatcher
from crm_core.settings import Settings, load_settings
from crm_core.telemetry import Telemetry, setup_telemetry

log = logging.getLogger("crm_worker")

# Every module that declares actors, imported by name so the list is explicit and complete.
ACTOR_MODULES: tuple[str, ...] = ("crm_core.cleansing.tasks",)
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
    load_actor_modules()
    bind_all(broker, runtime)
    threads = settings.worker.threads
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    worker.delay_prefetch = threads * DELAY_PREFETCH_PER_THREAD
    return worker, runtime


def configure_logging(settings: Settings) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(process)d %(threadName)s %(name)s: %(message)s",
        )


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
    worker, _ = build_worker(settings, telemetry)
    previous: dict[signal.Signals, Any] = {s: signal.signal(s, on_signal) for s in _STOP_SIGNALS}
    try:
        worker.start()
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
    telemetry.shutdown()
    log.info("worker stopped")
    return 0
