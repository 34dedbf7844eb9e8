"""Metrics over OpenTelemetry: GraphQL operations, background jobs and queue depth.

The meter provider is built by ``crm_core.telemetry.setup_telemetry`` (start-up code only) and
exports over OTLP/HTTP (``<endpoint>/v1/metrics``) when ``CRM_TELEMETRY__EXPORTER=otlp``; with
``none`` every instrument here is a no-op. Names follow OpenTelemetry's conventions (seconds for
durations, ``tenant.id`` as on spans).

Cardinality: ``tenant.id`` × operation name × outcome. Operation names come from clients, so only
names that look like identifiers (at most 64 characters) are kept, anything else is ``other``, and
each process keeps at most ``MAX_OPERATION_SERIES`` distinct (operation, tenant) pairs; later new
names count as ``other`` (this SDK has no cardinality limit of its own), so a client inventing
operation names cannot grow the process's or the collector's memory.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from crm_core.settings import Settings, TraceExporter

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_SERIES = 5_000
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)


def build_meter_provider(
    settings: Settings, resource: Resource, readers: Sequence[MetricReader] | None = None
) -> MeterProvider | None:
    """The process's meter provider, or None when nothing would read it."""
    exporter = settings.telemetry.exporter
    all_readers: list[MetricReader] = list(readers or [])
    interval_ms = settings.telemetry.metrics_interval_seconds * 1000
    if exporter is TraceExporter.otlp:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        endpoint = settings.telemetry.otlp_endpoint.rstrip("/") + "/v1/metrics"
        all_readers.append(
            PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=endpoint), export_interval_millis=interval_ms
            )
        )
    elif exporter is TraceExporter.console:
        all_readers.append(
            PeriodicExportingMetricReader(
                ConsoleMetricExporter(), export_interval_millis=interval_ms
            )
        )
    if not all_readers:
        return None
    return MeterProvider(resource=resource, metric_readers=all_readers)


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    return name if _NAME_RE.fullmatch(name) else "other"


@dataclass
class GraphQLInstruments:
    operations: Any
    duration: Any
    errors: Any
    _seen: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def create(cls, meter: Meter) -> GraphQLInstruments:
        return cls(
            operations=meter.create_counter(
                "crm.graphql.operations", unit="{operation}", description="GraphQL operations"
            ),
            duration=meter.create_histogram(
                "crm.graphql.operation.duration",
                unit="s",
                description="Time to execute a GraphQL operation",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            ),
            errors=meter.create_counter(
                "crm.graphql.operation.errors",
                unit="{error}",
                description="GraphQL operations that answered with errors",
            ),
        )

    def record(
        self,
        *,
        operation: str | None,
        operation_type: str,
        tenant_id: str | None,
        seconds: float,
        error_codes: Iterable[str],
    ) -> None:
        codes = sorted(set(error_codes))
        name, tenant = operation_label(operation), tenant_id or "none"
        if (name, tenant) not in self._seen:
            if len(self._seen) >= MAX_OPERATION_SERIES:
                name = "other"
            else:
                self._seen.add((name, tenant))
        attrs = {
            "graphql.operation.name": name,
            "graphql.operation.type": operation_type,
            "tenant.id": tenant,
            "outcome": "error" if codes else "ok",
        }
        self.operations.add(1, attrs)
        self.duration.record(seconds, attrs)
        for code in codes:
            self.errors.add(1, {**attrs, "error.type": code})


class JobMetrics(dramatiq.Middleware):
    """Counts, durations, retries and dead letters per actor.

    Add it *before* Dramatiq's ``Retries`` middleware (``broker.add_middleware(m, before=Retries)``):
    ``after_*`` hooks run in reverse order, so Retries has already decided whether a failed
    message is retried or dead-lettered (``message.failed``) when this one looks.
    """

    def __init__(self, meter: Meter) -> None:
        self._started: dict[str, float] = {}
        self._processed = meter.create_counter(
            "crm.jobs.processed", unit="{message}", description="Messages processed, by outcome"
        )
        self._duration = meter.create_histogram(
            "crm.jobs.duration",
            unit="s",
            description="Time an actor took on one message",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._retries = meter.create_counter(
            "crm.jobs.retries", unit="{message}", description="Failed messages scheduled again"
        )
        self._dead = meter.create_counter(
            "crm.jobs.dead_letters",
            unit="{message}",
            description="Messages that exhausted their retries (dead-letter queue)",
        )

    @staticmethod
    def _attrs(message: MessageProxy) -> dict[str, str]:
        return {"actor": message.actor_name, "messaging.destination.name": message.queue_name}

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        started = self._started.pop(message.message_id, None)
        attrs = self._attrs(message)
        if exception is None:
            outcome = "success"
        elif message.failed:
            outcome = "dead_lettered"
            self._dead.add(1, attrs)
        else:
            outcome = "retried"
            self._retries.add(1, attrs)
        self._processed.add(1, {**attrs, "outcome": outcome})
        if started is not None:
            self._duration.record(time.perf_counter() - started, {**attrs, "outcome": outcome})

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started.pop(message.message_id, None)
        self._processed.add(1, {**self._attrs(message), "outcome": "skipped"})


def observe_queue_depth(meter: Meter, redis_url: str, namespace: str, queues: Iterable[str]) -> Any:
    """``crm.queue.depth`` per queue and state (ready, delayed, dead), read from Redis at export.

    Dramatiq's Redis layout: ``<ns>:<queue>`` and ``<ns>:<queue>.DQ`` are lists of message ids,
    ``<ns>:<queue>.XQ`` a sorted set of dead ones. Every worker reports the same numbers (take
    the max across instances).
    """
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2.0)
    names = sorted(set(queues))

    def read(options: CallbackOptions) -> Iterable[Observation]:
        try:
            pipe = client.pipeline(transaction=False)
            for q in names:
                pipe.llen(f"{namespace}:{q}")
                pipe.llen(f"{namespace}:{q}.DQ")
                pipe.zcard(f"{namespace}:{q}.XQ")
            counts = pipe.execute()
        except Exception:
            log.warning("queue depth: Redis unreachable", exc_info=True)
            return []
        out = []
        for i, q in enumerate(names):
            for j, state in enumerate(("ready", "delayed", "dead")):
                out.append(Observation(counts[i * 3 + j], {"queue": q, "state": state}))
        return out

    meter.create_observable_gauge(
        "crm.queue.depth", callbacks=[read], unit="{message}", description="Messages waiting"
    )
    return client
