"""The Helm chart renders, lints and validates against the Kubernetes schemas, offline.

Rendering and linting use Helm's own library (PyPI ``helm-python-sdk``, no ``helm`` binary);
every rendered object is then checked with ``kubernetes-validate`` in strict mode (unknown fields
are errors), for the default values and for ``ci/production-values.yaml``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "crm"
KUBE_VERSION = "1.31.0"
VALUE_SETS = {
    "default": None,
    "production": CHART / "ci" / "production-values.yaml",
}


def load_values(path: Path | None) -> dict[str, Any] | None:
    return None if path is None else yaml.safe_load(path.read_text())


def render(values: dict[str, Any] | None, *, upgrade: bool = False) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(values)
        rendered = chart.render(
            values, name="crm", namespace="crm", is_install=not upgrade, is_upgrade=upgrade
        )
    docs = []
    for name, text in rendered.items():
        if name.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    }


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_chart_renders_lints_and_validates(value_set: str) -> None:
    values = load_values(VALUE_SETS[value_set])
    started = time.perf_counter()
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}")
    docs = render(values)
    rendered_at = time.perf_counter()
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}")
    done = time.perf_counter()
    print(
        f"\n{value_set}: lint+render {rendered_at - started:.3f}s, validate {len(docs)} objects "
        f"{done - rendered_at:.3f}s, total {done - started:.3f}s"
    )
    assert report["errors"] == [], report
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report

    kinds = {d["kind"] for d in docs}
    assert {
        "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job",
        "ConfigMap", "ServiceAccount", "NetworkPolicy",
    } <= kinds  # fmt: skip
    assert "Secret" in kinds or (values and values["secrets"]["existingSecret"])
    if value_set == "production":
        assert "Ingress" in kinds


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_pod_is_locked_down_and_probed(value_set: str) -> None:
    docs = render(load_values(VALUE_SETS[value_set]))
    specs = pod_specs(docs)
    assert set(specs) == {"crm-gateway", "crm-worker", "crm-scheduler", "crm-migrate"}
    for name, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert {v["name"]: v for v in spec["volumes"]}["tmp"]["emptyDir"], name
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], name
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], name
            if name != "crm-migrate":
                assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
                assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
                assert c["startupProbe"]["httpGet"]["path"] == "/healthz", name
    # Each role is chosen by the image's command.
    args = {n: s["containers"][0]["args"][0] for n, s in specs.items()}
    assert args == {
        "crm-gateway": "gateway", "crm-worker": "worker",
        "crm-scheduler": "scheduler", "crm-migrate": "migrate",
    }  # fmt: skip


def test_lifecycle_settings_fit_together() -> None:
    values = load_values(VALUE_SETS["production"])
    assert values is not None
    docs = render(values)
    deployments = by_kind(docs, "Deployment")
    gateway = deployments["crm-gateway"]["spec"]["template"]["spec"]
    worker = deployments["crm-worker"]["spec"]["template"]["spec"]
    scheduler = deployments["crm-scheduler"]
    # Kubernetes never kills a gateway that is still draining, nor a worker in its grace period.
    drain = values["gateway"]["drainSeconds"]
    assert gateway["containers"][0]["args"] == ["gateway", "--grace", str(drain)]
    assert gateway["terminationGracePeriodSeconds"] > drain + values.get("preStopSleepSeconds", 5)
    assert worker["terminationGracePeriodSeconds"] > values["worker"]["shutdownGraceSeconds"]
    # One scheduler, never two at once during a rollout (the Redis lock covers the rest).
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    # HPAs own the replica counts of gateway and worker.
    assert "replicas" not in deployments["crm-gateway"]["spec"]
    assert set(by_kind(docs, "HorizontalPodAutoscaler")) == {"crm-gateway", "crm-worker"}
    assert set(by_kind(docs, "PodDisruptionBudget")) == {"crm-gateway", "crm-worker"}
    # The migration Job is a pre-install/pre-upgrade hook with its own hook-time config.
    job = by_kind(docs, "Job")["crm-migrate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    env_from = job["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "crm-production"}} in env_from
    assert "Secret" not in {d["kind"] for d in docs}  # existingSecret: the chart makes none
    # External services reach the settings the processes read (crm_core.settings).
    config = by_kind(docs, "ConfigMap")["crm-config"]["data"]
    assert config["CRM_MAIL__HOST"] == "smtp.example.com"
    assert config["CRM_MAIL__USERNAME"] == "crm@example.com"
    assert config["CRM_BACKUPS__STORAGE"] == "s3"
    assert config["CRM_TELEMETRY__EXPORTER"] == "otlp"
    # The ingress exposes the public routes only: /readyz names tenants.
    paths = {
        p["path"] for p in by_kind(docs, "Ingress")["crm"]["spec"]["rules"][0]["http"]["paths"]
    }
    assert paths == {"/graphql", "/oauth", "/auth", "/.well-known"}


def test_no_secret_ends_up_in_a_configmap_and_empty_secrets_are_left_out() -> None:
    values = {"secrets": {"databaseUrl": "postgresql://crm:s3cret@pg:5432/crm", "masterKey": "k"}}
    docs = render(values)
    for cm in by_kind(docs, "ConfigMap").values():
        assert "s3cret" not in yaml.safe_dump(cm)
    config = by_kind(docs, "ConfigMap")["crm-config"]["data"]
    assert "CRM_MAIL__USERNAME" not in config  # "" would mean "log in with an empty name"
    assert "CRM_BACKUPS__S3_ENDPOINT_URL" not in config
    secret = by_kind(docs, "Secret")["crm-secrets"]
    # An empty CRM_SSO__COOKIE_SECRET would be a secret, not "unset": only set keys are written.
    assert set(secret["data"]) == {"CRM_DATABASE_URL", "CRM_SECURITY__MASTER_KEY"}


@pytest.mark.parametrize(
    "bad",
    [
        {"telemetry": {"exporter": "zipkin"}},
        {"securityContext": {"allowPrivilegeEscalation": True, "runAsNonRoot": True}},
        {"worker": {"threads": 0}},
        {"extraEnv": {"PATH": "/tmp"}},
        {"unknownKey": 1},
    ],
)
def test_values_schema_rejects_bad_values(bad: dict[str, Any]) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmError):
        chart.validate_schema(bad)


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_rendered_setting_is_one_the_processes_read(
    value_set: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings ignore unknown variables, so a misspelt CRM_* name would be silently lost."""
    from crm_core.settings import Settings

    values = load_values(VALUE_SETS[value_set]) or {}
    values = {**values, "extraEnv": {}}
    docs = render(values)
    config = by_kind(docs, "ConfigMap")["crm-config"]["data"]
    for key in config:
        model: Any = Settings
        for part in key.removeprefix("CRM_").lower().split("__"):
            assert part in model.model_fields, f"{key}: no setting {part!r}"
            model = model.model_fields[part].annotation
    for key in ("CRM_DATABASE_URL", "CRM_REDIS_URL", "CRM_SECURITY__MASTER_KEY",
                "CRM_MAIL__PASSWORD", "CRM_BACKUPS__S3_SECRET_ACCESS_KEY"):  # fmt: skip
        part = key.removeprefix("CRM_").lower().split("__")
        assert part[0] in Settings.model_fields
    for key in list(os.environ):
        if key.startswith("CRM_"):
            monkeypatch.delenv(key)
    for key, value in config.items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # every value parses (enums, ports, booleans)
    assert settings.worker.health_port == 8001
    assert settings.log_json is True
