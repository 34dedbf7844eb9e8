"""OpenTelemetry set-up (in start-up code only) and trace-context propagation over messages.

The exporter is chosen by settings: ``otlp`` (HTTP/protobuf to a collector), ``console`` or
``none``. Tests pass their own span processor (an in-memory exporter) instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
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
    _instrumented: list[Any] = field(default_factory=list)

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """SQL spans for this engine. The instrumentor's declared range stops below SQLAlchemy 2.1
        and its public ``instrument()`` works once per process; the engine tracer it builds hooks
        engine events that 2.1 keeps (tests/telemetry proves the spans), so attach one per engine."""
        if self.provider is None:
            return
        from opentelemetry import metrics
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

        tracer = trace.get_tracer(
            "opentelemetry.instrumentation.sqlalchemy", tracer_provider=self.provider
        )
        usage = metrics.get_meter(__name__).create_up_down_counter(
            "db.client.connections.usage", unit="connections", description="connections in use"
        )
        self._instrumented.append(
            EngineTracer(tracer, engine.sync_engine, usage, False, {}, False)  # type: ignore[no-untyped-call]
        )

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


class TenantSpanProcessor(SpanProcessor):
    """Stamps ``tenant.id`` on every span started while a tenant is bound to the context."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        tenant = log_tenant_or_none()
        if tenant is not None:
            span.set_attribute("tenant.id", str(tenant.id))


def setup_telemetry(
    settings: Settings, *, service_name: str, processors: list[SpanProcessor] | None = None
) -> Telemetry:
    exporter = settings.telemetry.exporter
    if exporter is TraceExporter.none and not processors:
        return Telemetry(provider=None)
    resource = Resource.create(
        {"service.name": service_name, "service.namespace": settings.telemetry.service_namespace}
    )
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
    return Telemetry(provider=provider)


def inject_trace_context(options: dict[str, Any]) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if carrier:
        options[TRACE_OPTION] = carrier


def extract_trace_context(options: Mapping[str, Any]) -> otel_context.Context:
    return propagate.extract(options.get(TRACE_OPTION) or {})
