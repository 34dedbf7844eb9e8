"""Strawberry's OpenTelemetry extension, made safe for personal data.

The stock extension records the whole query text (with inline literals) on the operation span and
every resolver argument as an attribute — a login's password included. Here the operation span
carries only the operation's name and a hash of the document, and arguments are kept only when
they are on an allow-list of harmless names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from typing import Any

from opentelemetry.trace import SpanKind
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.extensions.tracing.opentelemetry import LifecycleStep  # type: ignore[attr-defined]

SAFE_ARGS = frozenset(
    {"first", "last", "after", "before", "id", "include_deleted", "order_by", "version"}
)


def _safe_args(args: dict[str, Any], info: Any) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k in SAFE_ARGS}


class SafeOpenTelemetryExtension(OpenTelemetryExtension):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("arg_filter", _safe_args)
        super().__init__(**kwargs)

    def on_operation(self) -> Generator[None, None, None]:
        name = self.execution_context.operation_name
        span = self._tracer.start_span(f"GraphQL {name or 'operation'}", kind=SpanKind.SERVER)
        self._span_holder[LifecycleStep.OPERATION] = span
        span.set_attribute("component", "graphql")
        if self.execution_context.query:
            digest = hashlib.sha256(self.execution_context.query.encode()).hexdigest()
            span.set_attribute("graphql.document.sha256", digest)
        yield
        final = self.execution_context.operation_name
        if final:
            span.set_attribute("graphql.operation.name", final)
            if not name:
                span.update_name(f"GraphQL {final}")
        span.end()
