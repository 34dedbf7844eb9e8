"""Which tenant a piece of work belongs to, and the only way to name its schema."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

_SCHEMA_RE = re.compile(r"^tenant_[0-9a-f]{32}$")


def schema_for(tenant_id: uuid.UUID) -> str:
    """The schema of a tenant, from its immutable id only (never a slug or any input)."""
    if not isinstance(tenant_id, uuid.UUID):
        raise TypeError("tenant_id must be a UUID")
    name = f"tenant_{tenant_id.hex}"
    if not _SCHEMA_RE.fullmatch(name):  # pragma: no cover - uuid.hex always matches
        raise ValueError(f"bad tenant schema name {name!r}")
    return name


def is_tenant_schema(name: str) -> bool:
    return bool(_SCHEMA_RE.fullmatch(name))


@dataclass(frozen=True, slots=True)
class TenantRef:
    """A tenant resolved and checked at the edge; passed explicitly from there on."""

    id: uuid.UUID
    slug: str

    @property
    def schema(self) -> str:
        return schema_for(self.id)


# For logs and spans only: code that touches data takes the tenant as an argument.
_current_tenant: ContextVar[TenantRef | None] = ContextVar("crm_current_tenant", default=None)


def bind_log_tenant(tenant: TenantRef | None) -> None:
    _current_tenant.set(tenant)


def log_tenant() -> TenantRef:
    tenant = _current_tenant.get()
    if tenant is None:
        raise LookupError("no tenant bound to this context")
    return tenant


def log_tenant_or_none() -> TenantRef | None:
    return _current_tenant.get()
