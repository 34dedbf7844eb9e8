"""`crm up` as a user runs it, with no servers configured: embedded PostgreSQL and Valkey, demo
data, gateway + worker + scheduler; the README's query answers; Ctrl-C stops everything; a second
start reuses the data."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from smtptest import free_port

pytestmark = [pytest.mark.embedded, pytest.mark.slow]

LOGIN = (
    "mutation($i: LoginInput!) { login(input: $i) { session { accessToken } errors { message } } }"
)
README_QUERY = (
    "{ customers(first: 5) { totalCount edges { node { code name phone city owner { name } "
    "contacts { name title phones { number } } } } } }"
)


class Up:
    """A running `crm up`, its output collected line by line."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(CRM_DATA_DIR=str(data_dir), CRM_GATEWAY_PORT=str(port), CRM_LOG_LEVEL="WARNING")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crm_core", "up", "--demo-customers", "60"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if m := re.search(pattern, line):
                    return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in output:\n{''.join(self.lines)}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def interrupt(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(
        tempfile.mkdtemp(prefix="crm-up-test-")
    )  # not under pytest's 0700 tmp (see runtime tests)
    yield path
    from crm_core.runtime.embedded_postgres import EmbeddedPostgres

    EmbeddedPostgres(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def readme_query(base: str) -> dict:
    with httpx.Client(base_url=base, timeout=30) as client:
        variables = {
            "i": {
                "email": "owner@demo-company.cn",
                "password": "demo-password-2026",
                "tenant": "demo",
            }
        }
        login = client.post("/graphql", json={"query": LOGIN, "variables": variables}).json()
        token = login["data"]["login"]["session"]["accessToken"]
        response = client.post(
            "/graphql", json={"query": README_QUERY}, headers={"authorization": f"Bearer {token}"}
        )
        return response.json()


def test_crm_up_twice_and_ctrl_c(data_dir: Path) -> None:
    port = free_port()
    first = Up(data_dir, port)
    try:
        seeded = first.wait_for(r"tenant demo: 60 customers created .*, (\d+) in all")
        # 60 generated customers, and the few that converted demo leads became.
        total = int(seeded.group(1))
        assert total >= 60
        first.wait_for(r"CRM is up in")
        body = readme_query(f"http://127.0.0.1:{port}")
        assert "errors" not in body, body
        page = body["data"]["customers"]
        assert page["totalCount"] == total
        assert len(page["edges"]) == 5
        # Owners resolve; a few demo customers sit in the shared pool with no owner.
        assert any(e["node"]["owner"] is not None for e in page["edges"])
        children = first.descendants()
        assert len(children) >= 4  # gateway, worker, scheduler, embedded servers
    finally:
        code = first.interrupt()
    assert code == 0, "".join(first.lines)
    assert not [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    second = Up(data_dir, port)
    try:
        second.wait_for(rf"tenant demo: 0 customers created .*, {total} in all")
        second.wait_for(r"CRM is up in")
        assert readme_query(f"http://127.0.0.1:{port}")["data"]["customers"]["totalCount"] == total
    finally:
        assert second.interrupt() == 0
