"""What the embedded PostgreSQL and Valkey servers share: their error, finding a server's
processes by pid and working directory, stopping them (terminate, then kill, zombies counting as
gone), a lock file between ``crm`` processes, and the description of a failed command.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started or stopped; the message names its log file."""


def _is_server_process(pid: int, workdir: Path) -> bool:
    """True if ``pid`` is alive and works in ``workdir`` (both servers chdir to their data
    dir): a zombie or a process that reused the pid of a dead server is not ours."""
    try:
        process = psutil.Process(pid)
        return bool(process.status() != psutil.STATUS_ZOMBIE and Path(process.cwd()) == workdir)
    except psutil.Error:  # gone, zombie, or another user's process
        return False


def _processes_working_in(workdir: Path, name: str) -> list[Any]:
    return [
        process
        for process in psutil.process_iter(["name"])
        if process.info["name"] == name and _is_server_process(process.pid, workdir)
    ]


def _terminate(processes: list[Any], timeout: float) -> None:
    _signal_all(processes, "terminate")
    _kill(_wait_gone(processes, timeout))


def _kill(processes: list[Any]) -> None:
    _signal_all(processes, "kill")
    _wait_gone(processes, 5.0)


def _signal_all(processes: list[Any], method: str) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            getattr(process, method)()


def _wait_gone(processes: list[Any], timeout: float) -> list[Any]:
    """Wait until the processes are gone; returns those still alive. Zombies count as gone:
    these are not our children, and reaping them is up to init (which can be slow)."""
    deadline = time.monotonic() + timeout
    alive = [p for p in processes if _is_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if _is_alive(p)]
    return alive


def _is_alive(process: Any) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _describe(exc: BaseException) -> str:
    stderr = getattr(exc, "stderr", None)
    detail = f": {stderr.strip()}" if isinstance(stderr, str) and stderr.strip() else ""
    return f"{exc}{detail}"
