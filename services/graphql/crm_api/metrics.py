"""Per-operation GraphQL metrics (rate, latency, errors per operation and tenant).

A schema extension, added by ``create_app()`` as a factory (never an instance: pitfalls.md). The
instruments are bound in the app's lifespan, once the meter provider exists; until then, and
when metrics are off, recording does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

from graphql import OperationType
from strawberry.extensions import SchemaExtension

from crm_core.metrics import GraphQLInstruments
from crm_core.tenancy import log_tenant_or_none


class MetricsHolder:
    instruments: GraphQLInstruments | None = None


class MetricsExtension(SchemaExtension):
    def __init__(self, *, holder: MetricsHolder, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._holder = holder

    def on_operation(self) -> Generator[None, None, None]:
        started = time.perf_counter()
        yield
        instruments = self._holder.instruments
        if instruments is None:
            return
        ctx = self.execution_context
        errors = list(ctx.pre_execution_errors or [])
        if ctx.result is not None and ctx.result.errors:
            errors.extend(ctx.result.errors)
        codes = [
            str((getattr(e, "extensions", None) or {}).get("code", "GRAPHQL_ERROR")) for e in errors
        ]
        try:
            op_type = ctx.operation_type
        except Exception:  # an unparsable document has no operation type
            op_type = None
        tenant = log_tenant_or_none()
        instruments.record(
            operation=ctx.operation_name,
            operation_type=op_type.value if isinstance(op_type, OperationType) else "unknown",
            tenant_id=str(tenant.id) if tenant else None,
            seconds=time.perf_counter() - started,
            error_codes=codes,
        )
