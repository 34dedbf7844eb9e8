"""The viewer's companies."""

from __future__ import annotations

import strawberry

from crm_api.context import Info
from crm_api.identity.sessions import person, signed_in_person
from crm_api.identity.types import MyTenant
from crm_core.identity import service


@strawberry.type
class IdentityQueries:
    @strawberry.field(
        description="The companies you can switch to with `switchTenant`.",
        extensions=signed_in_person(),
    )
    async def my_tenants(self, info: Info) -> list[MyTenant]:
        me = person(info)
        pairs = await service.my_tenants(info.context.app.db, me.user_id)
        return [MyTenant.from_models(m, t, current=t.id == me.tenant.id) for m, t in pairs]
