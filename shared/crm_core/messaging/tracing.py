"""Trace context across the queue: injected into a message's options on enqueue, extracted when a
worker processes it, so a job's spans join the trace of the request that caused it.

The context is attached on the worker thread before the actor runs; Dramatiq's AsyncIO middleware
submits the actor's coroutine from that thread, and asyncio copies the submitting thread's context
into the task, so spans opened inside ``async def`` actors become children of the process span.
"""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from crm_core.telemetry import extract_trace_context, inject_trace_context

_TRACER = "crm.messaging"


class TraceMiddleware(dramatiq.Middleware):
    def __init__(self) -> None:
        self._local = threading.local()

    def before_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int
    ) -> None:
        inject_trace_context(message.options)

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        parent = extract_trace_context(message.options)
        span = trace.get_tracer(_TRACER).start_span(
            f"process {message.actor_name}", context=parent, kind=SpanKind.CONSUMER
        )
        span.set_attribute("messaging.system", "dramatiq")
        span.set_attribute("messaging.destination.name", message.queue_name)
        span.set_attribute("messaging.message.id", message.message_id)
        tenant_id = message.kwargs.get("tenant_id")
        if tenant_id:
            span.set_attribute("tenant.id", str(tenant_id))
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        self._local.current = (span, token)

    def _finish(self, exception: BaseException | None = None) -> None:
        current = getattr(self._local, "current", None)
        if current is None:
            return
        span, token = current
        self._local.current = None
        if exception is not None:
            span.record_exception(exception)
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        span.end()
        otel_context.detach(token)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self._finish(exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._finish()
