"""OpenTelemetry set-up (in start-up code only), trace-context propagation over messages, logs.

The exporter is chosen by settings: ``otlp`` (HTTP/protobuf to a collector: traces to
``/v1/traces``, metrics to ``/v1/metrics``), ``console`` or ``none``. Tests pass their own span
processor or metric reader (in-memory) instead. Metric instruments are in ``crm_core.metrics``.

Logs: ``configure_logging`` sends every stdlib logger (uvicorn's and Dramatiq's included) through
structlog; with ``CRM_LOG_JSON=true`` each line is one JSON object carrying ``trace_id`` and
``span_id`` of the current span and ``tenant_id`` of the bound tenant, so a log line leads to its
trace in the viewer and to its tenant.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core.settings import Settings, TraceExporter
from crm_core.tenancy import log_tenant_or_none

TRACE_OPTION = "otel"  # message option carrying the W3C trace context


@dataclass
class Telemetry:
    provider: TracerProvider | None
    meter_provider: MeterProvider | None = None
    _instrumented: list[Any] = field(default_factory=list)

    def meter(self, name: str) -> Meter:
        """A meter of this process's provider; a no-op one when metrics are off."""
        if self.meter_provider is None:
            return metrics.NoOpMeter(name)
        return self.meter_provider.get_meter(name)

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """SQL spans for this engine. The instrumentor's declared range stops below SQLAlchemy 2.1
        and its public ``instrument()`` works once per process; the engine tracer it builds hooks
        engine events that 2.1 keeps (tests/telemetry proves the spans), so attach one per engine."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

        tracer = trace.get_tracer(
            "opentelemetry.instrumentation.sqlalchemy", tracer_provider=self.provider
        )
        usage = self.meter(__name__).create_up_down_counter(
            "db.client.connections.usage", unit="connections", description="connections in use"
        )
        self._instrumented.append(
            EngineTracer(tracer, engine.sync_engine, usage, False, {}, False)  # type: ignore[no-untyped-call]
        )

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


class TenantSpanProcessor(SpanProcessor):
    """Stamps ``tenant.id`` on every span started while a tenant is bound to the context."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        tenant = log_tenant_or_none()
        if tenant is not None:
            span.set_attribute("tenant.id", str(tenant.id))


def setup_telemetry(
    settings: Settings,
    *,
    service_name: str,
    processors: list[SpanProcessor] | None = None,
    metric_readers: Sequence[MetricReader] | None = None,
) -> Telemetry:
    from crm_core.metrics import build_meter_provider

    exporter = settings.telemetry.exporter
    resource = Resource.create(
        {"service.name": service_name, "service.namespace": settings.telemetry.service_namespace}
    )
    meter_provider = build_meter_provider(settings, resource, metric_readers)
    if meter_provider is not None and not metric_readers:
        metrics.set_meter_provider(meter_provider)  # for libraries that use the global one
    if exporter is TraceExporter.none and not processors:
        return Telemetry(provider=None, meter_provider=meter_provider)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(TenantSpanProcessor())
    if exporter is TraceExporter.console:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter is TraceExporter.otlp:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.telemetry.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    for processor in processors or []:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return Telemetry(provider=provider, meter_provider=meter_provider)


def inject_trace_context(options: dict[str, Any]) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if carrier:
        options[TRACE_OPTION] = carrier


def extract_trace_context(options: Mapping[str, Any]) -> otel_context.Context:
    return propagate.extract(options.get(TRACE_OPTION) or {})


# --- Logs -------------------------------------------------------------------------------------


def _add_trace_and_tenant(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    tenant = log_tenant_or_none()
    if tenant is not None:
        event["tenant_id"] = str(tenant.id)
    return event


def configure_logging(settings: Settings, *, service_name: str, force: bool = False) -> None:
    """Route every stdlib logger through structlog: JSON lines or readable text (process entry
    points only; a root logger that already has handlers, as under pytest, is left alone)."""
    import structlog

    root = logging.getLogger()
    if root.handlers and not force:
        return
    shared: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_and_tenant,
    ]
    renderer: Any
    if settings.log_json:

        def add_service(
            logger: Any, method: str, event: MutableMapping[str, Any]
        ) -> MutableMapping[str, Any]:
            event["service"] = service_name
            return event

        shared.append(add_service)
        renderer = structlog.processors.JSONRenderer()
        final: list[Any] = [structlog.processors.format_exc_info, renderer]
    else:
        final = [structlog.dev.ConsoleRenderer(colors=False)]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
