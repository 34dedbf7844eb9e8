"""Who is acting: resolved once at the edge, passed explicitly to services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    tenant: TenantRef
    role: Role

    @classmethod
    def system(cls, tenant: TenantRef) -> Principal:
        """Background work acting for the tenant (no user); audited as the nil user."""
        return cls(user_id=uuid.UUID(int=0), tenant=tenant, role=Role.admin)
