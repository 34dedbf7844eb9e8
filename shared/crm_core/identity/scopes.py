"""Data scopes: which records each role sees (own, team, all), configurable per tenant.

Resolved once per request at the edge and carried in the Principal; repositories and services
apply ``principal.data_scope`` to every lookup, list, count, search and write.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.identity.models import Team
from crm_core.identity.principal import ALL_RECORDS, DataScope, Principal, ScopeKind
from crm_core.tenants.models import Membership, Role, Tenant

# Product defaults; a tenant overrides them in ``settings["data_scope"]`` ({"sales": "team", …}).
DEFAULTS: dict[Role, ScopeKind] = {
    Role.owner: ScopeKind.all,
    Role.admin: ScopeKind.all,
    Role.manager: ScopeKind.team,
    Role.sales: ScopeKind.own,
    Role.service: ScopeKind.all,
    Role.viewer: ScopeKind.all,
}
FIXED_ALL = frozenset({Role.owner, Role.admin})  # the tenant's administrators always see everything


def kind_for(role: Role, tenant_settings: dict[str, Any]) -> ScopeKind:
    if role in FIXED_ALL:
        return ScopeKind.all
    configured = (tenant_settings.get("data_scope") or {}).get(role.value)
    try:
        return ScopeKind(configured) if configured else DEFAULTS[role]
    except ValueError:
        return DEFAULTS[role]


async def team_member_ids(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> set[uuid.UUID]:
    """The user, the members of the user's own team, and of every team the user manages."""
    my_teams = (
        select(Membership.team_id)
        .where(
            Membership.tenant_id == tenant_id,
            Membership.user_id == user_id,
            Membership.team_id.is_not(None),
        )
        .scalar_subquery()
    )
    managed = select(Team.id).where(Team.tenant_id == tenant_id, Team.manager_user_id == user_id)
    stmt = select(Membership.user_id).where(
        Membership.tenant_id == tenant_id,
        or_(Membership.team_id == my_teams, Membership.team_id.in_(managed)),
    )
    found = set((await session.execute(stmt)).scalars())
    found.add(user_id)
    return found


async def resolve(db: Database, principal: Principal) -> Principal:
    """The principal with its data scope filled in (API clients act for the whole tenant)."""
    if principal.client_id is not None or principal.role in FIXED_ALL:
        return dataclasses.replace(principal, data_scope=ALL_RECORDS)
    async with db.core_session() as session:
        settings = (
            await session.execute(select(Tenant.settings).where(Tenant.id == principal.tenant.id))
        ).scalar_one()
        kind = kind_for(principal.role, settings)
        if kind is ScopeKind.all:
            scope = ALL_RECORDS
        elif kind is ScopeKind.own:
            scope = DataScope(ScopeKind.own, frozenset({principal.user_id}))
        else:
            members = await team_member_ids(session, principal.tenant.id, principal.user_id)
            scope = DataScope(ScopeKind.team, frozenset(members))
    return dataclasses.replace(principal, data_scope=scope)
