"""Who is acting: resolved once at the edge, passed explicitly to services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from crm_core.identity.permissions import allows
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Role


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

    def allows(self, permission: str) -> bool:
        if not allows(self.role, permission):
            return False
        return self.scopes is None or permission in self.scopes

    @classmethod
    def system(cls, tenant: TenantRef) -> Principal:
        """Background work acting for the tenant (no user); audited as the nil user."""
        return cls(user_id=uuid.UUID(int=0), tenant=tenant, role=Role.admin)
