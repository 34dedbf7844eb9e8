"""Supervisor: prefixed output, stop on request or signal within the grace period, fail fast."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from crm_core.runtime.supervisor import ChildSpec, Supervisor, wait_for_http, wait_for_port

# Exits on SIGTERM after saying so.
POLITE = """
import signal, sys, time
def bye(*_):
    print("bye", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""

# Ignores SIGTERM and has a grandchild in its process group.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(f"grandchild {grandchild.pid}", flush=True)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""

CRASHING = """
import time
time.sleep(0.3)
print("boom", flush=True)
raise SystemExit(3)
"""


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def line(name: str, text: str) -> str:
    """An output line as the supervisor prints it ("supervisor" is the widest name here)."""
    return f"{name:<10} | {text}"


def stop_when(supervisor: Supervisor, condition: Callable[[], bool]) -> list[float]:
    """Calls supervisor.stop() from another thread once condition holds; returns [when]."""
    stopped_at: list[float] = []

    def watch() -> None:
        wait_until(condition)
        stopped_at.append(time.monotonic())
        supervisor.stop()

    threading.Thread(target=watch, daemon=True).start()
    return stopped_at


def test_stop_stops_children_in_reverse_order_within_grace_period() -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        [ChildSpec("api", python(POLITE)), ChildSpec("worker", python(POLITE))],
        # Long enough for a polite child on a loaded machine; the stubborn one waits it out.
        grace_period=4.0,
        output=out,
    )
    supervisor.add("stubborn", python(STUBBORN))
    stop_when(supervisor, lambda: out.getvalue().count("| ready") == 3)

    code = supervisor.run()

    text = out.getvalue()
    assert code == 0
    assert supervisor.failure is None
    assert line("api", "bye") in text
    assert line("worker", "bye") in text
    assert "stubborn did not stop in time: killing it" in text
    order = [text.index(f"stopping {name}") for name in ("stubborn", "worker", "api")]
    assert order == sorted(order)
    found = re.search(r"stubborn\s+\| grandchild (\d+)", text)
    assert found is not None
    grandchild = int(found.group(1))
    wait_until(lambda: gone(grandchild), timeout=2.0)  # killed with its process group
    assert all(gone(pid) for pid in supervisor.pids.values())


def test_ctrl_c_in_the_terminal_reaches_only_the_supervisor(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from crm_core.runtime.supervisor import Supervisor\n"
        "s = Supervisor(grace_period=5.0)\n"
        f"s.add('one', {python(POLITE)!r})\n"
        f"s.add('two', {python(POLITE)!r})\n"
        "sys.exit(s.run())\n"
    )
    log = tmp_path / "out.log"
    with log.open("wb") as sink:
        # Own session = own process group, like a shell job in the foreground of a terminal.
        up = subprocess.Popen(python(script), stdout=sink, stderr=sink, start_new_session=True)
    try:
        wait_until(lambda: log.read_text().count("| ready") == 2)
        os.killpg(up.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        assert up.wait(timeout=5.0) == 0
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
    text = log.read_text()
    assert "received SIGINT, stopping" in text
    assert text.count("| bye") == 2  # each child got the supervisor's SIGTERM, not the SIGINT
    pids = [int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)\)", text)]
    assert len(pids) == 2
    assert all(gone(pid) for pid in pids)


def test_a_crashing_child_stops_the_others() -> None:
    out = io.StringIO()
    supervisor = Supervisor(
        [ChildSpec("steady", python(POLITE)), ChildSpec("flaky", python(CRASHING))],
        output=out,
        colour=True,
    )
    started = time.monotonic()

    code = supervisor.run()

    text = out.getvalue()
    assert code == 3
    assert supervisor.failure is not None
    assert supervisor.failure.name == "flaky"
    assert "flaky exited with code 3; stopping the others" in text
    assert "boom" in text
    assert "\x1b[" in text  # coloured prefixes on request
    assert all(gone(pid) for pid in supervisor.pids.values())
    assert time.monotonic() - started < 5.0


def test_a_child_that_exits_cleanly_still_counts_as_a_failure() -> None:
    out = io.StringIO()
    echo = python("import os; print(os.environ['CRM_GREETING'])")
    supervisor = Supervisor(output=out)
    supervisor.add("echo", echo, env={"CRM_GREETING": "hello"})

    assert supervisor.run() == 1
    assert line("echo", "hello") in out.getvalue()
    assert "\x1b[" not in out.getvalue()  # StringIO is not a terminal


def test_a_child_that_cannot_start_fails_the_run() -> None:
    out = io.StringIO()
    supervisor = Supervisor(output=out)
    supervisor.add("first", python(POLITE))
    supervisor.add("missing", ["/nonexistent/crm-binary"])

    assert supervisor.run() == 127
    assert supervisor.failure is not None
    assert supervisor.failure.name == "missing"
    assert "first" in out.getvalue()
    assert all(gone(pid) for pid in supervisor.pids.values())


def test_wait_for_port_and_http() -> None:
    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        wait_for_port("127.0.0.1", port, timeout=2.0)
        wait_for_http(f"http://127.0.0.1:{port}/health", timeout=2.0)  # 404 is an answer
    finally:
        server.shutdown()
        server.server_close()

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        free_port = unused.getsockname()[1]
    with pytest.raises(TimeoutError, match="not ready"):
        wait_for_port("127.0.0.1", free_port, timeout=0.3)


def test_children_die_with_a_killed_supervisor() -> None:
    """Even SIGKILL of `crm up` (no chance to clean up) must not orphan the gateway and friends."""
    code = (
        "import sys\n"
        "from crm_core.runtime.supervisor import Supervisor\n"
        "s = Supervisor()\n"
        "s.add('sleeper', [sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "s.run()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    children: list[psutil.Process] = []
    while time.monotonic() < deadline and not children:
        children = psutil.Process(parent.pid).children(recursive=True)
        time.sleep(0.1)
    assert children
    parent.kill()
    parent.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, alive
