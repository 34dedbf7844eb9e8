"""Who is acting: resolved once at the edge, passed explicitly to services."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from crm_core.identity.permissions import allows
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Role


class ScopeKind(enum.StrEnum):
    own = "own"
    team = "team"
    all = "all"


@dataclass(frozen=True, slots=True)
class DataScope:
    """Whose records a principal sees: its own, its team's, or all of the tenant's.

    ``owner_ids`` lists the owners whose records are visible for ``own`` and ``team``; records
    without an owner (the shared pool) are visible only to ``all``.
    """

    kind: ScopeKind
    owner_ids: frozenset[uuid.UUID] = frozenset()

    def owner_condition(self, column: Any) -> ColumnElement[bool] | None:
        if self.kind is ScopeKind.all:
            return None
        return column.in_(sorted(self.owner_ids))  # type: ignore[no-any-return]

    def covers_owner(self, owner_id: uuid.UUID | None) -> bool:
        return self.kind is ScopeKind.all or (owner_id is not None and owner_id in self.owner_ids)


ALL_RECORDS = DataScope(ScopeKind.all)


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user, or an API client acting for a tenant.

    ``scopes`` is None for users (their role decides); an API client's role is its ceiling and
    its granted scopes narrow it further. ``user_id`` of a client is the client's record id.
    """

    user_id: uuid.UUID
    tenant: TenantRef
    role: Role
    scopes: frozenset[str] | None = None
    client_id: str | None = None
    data_scope: DataScope = ALL_RECORDS

    @property
    def sees_personal_data(self) -> bool:
        """Without it, phones, e-mails and other personal fields are masked everywhere."""
        return self.allows("personal_data:read")

    def allows(self, permission: str) -> bool:
        if not allows(self.role, permission):
            return False
        return self.scopes is None or permission in self.scopes

    @classmethod
    def system(cls, tenant: TenantRef) -> Principal:
        """Background work acting for the tenant (no user); audited as the nil user."""
        return cls(user_id=uuid.UUID(int=0), tenant=tenant, role=Role.admin)
