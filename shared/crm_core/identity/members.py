"""A tenant's people: members with their role and team, and the teams themselves.

Managed by holders of ``users:manage``. The last owner cannot be demoted or removed, so a company
can never lock itself out of its own account.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import DomainError, ErrorCode, NotFound
from crm_core.identity.models import Team
from crm_core.identity.principal import Principal
from crm_core.tenants.models import Membership, Role, User


@dataclass(frozen=True, slots=True)
class Member:
    user: User
    membership: Membership
    team: Team | None


async def list_members(session: AsyncSession, tenant_id: uuid.UUID) -> list[Member]:
    stmt = (
        select(User, Membership, Team)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Team, Team.id == Membership.team_id)
        .where(Membership.tenant_id == tenant_id)
        .order_by(User.name, User.id)
    )
    return [Member(u, m, t) for u, m, t in (await session.execute(stmt)).all()]


async def list_teams(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[Team]:
    stmt = select(Team).where(Team.tenant_id == tenant_id).order_by(Team.name)
    return (await session.execute(stmt)).scalars().all()


async def _membership(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> Membership:
    stmt = select(Membership).where(
        Membership.tenant_id == tenant_id, Membership.user_id == user_id
    )
    found = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if found is None:
        raise NotFound("user_id", "member")
    return found


async def _team(
    session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID, field: str
) -> Team:
    team = (
        await session.execute(select(Team).where(Team.id == team_id, Team.tenant_id == tenant_id))
    ).scalar_one_or_none()
    if team is None:
        raise NotFound(field, "team")
    return team


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise DomainError.one("name", ErrorCode.REQUIRED, "a team needs a name")
    if len(name) > 80:
        raise DomainError.one("name", ErrorCode.TOO_LONG, "at most 80 characters")
    return name


async def save_team(
    session: AsyncSession,
    principal: Principal,
    *,
    team_id: uuid.UUID | None,
    name: str,
    manager_user_id: uuid.UUID | None,
) -> Team:
    tenant_id = principal.tenant.id
    if manager_user_id is not None:
        try:
            await _membership(session, tenant_id, manager_user_id)
        except NotFound:
            raise NotFound("manager_id", "member") from None
    team = (
        Team(tenant_id=tenant_id)
        if team_id is None
        else await _team(session, tenant_id, team_id, "id")
    )
    team.name, team.manager_user_id = _clean_name(name), manager_user_id
    session.add(team)
    try:
        await session.flush()
    except IntegrityError:
        raise DomainError.one("name", ErrorCode.DUPLICATE, "another team has this name") from None
    return team


async def update_member(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    *,
    role: Role | None = None,
    team_id: uuid.UUID | None = None,
    clear_team: bool = False,
    active: bool | None = None,
) -> Membership:
    tenant_id = principal.tenant.id
    membership = await _membership(session, tenant_id, user_id)
    demoting = (role is not None and role is not Role.owner) or active is False
    if membership.role is Role.owner and demoting and await _owners(session, tenant_id) <= 1:
        raise DomainError.one(
            "role", ErrorCode.INVALID, "a company keeps at least one active owner"
        )
    if role is Role.owner and principal.role is not Role.owner:
        raise DomainError.one("role", ErrorCode.FORBIDDEN, "only an owner can make another owner")
    if role is not None:
        membership.role = role
    if clear_team:
        membership.team_id = None
    elif team_id is not None:
        membership.team_id = (await _team(session, tenant_id, team_id, "team_id")).id
    if active is not None:
        membership.is_active = active
    await session.flush()
    return membership


async def _owners(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        Membership.tenant_id == tenant_id,
        Membership.role == Role.owner,
        Membership.is_active.is_(True),
    )
    return int((await session.execute(stmt)).scalar_one())
