"""Members and teams of the signed-in company."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.enums import RoleEnum
from crm_api.errors import UserError, as_graphql_errors
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import Node, from_global_id, to_global_id
from crm_api.users import User
from crm_core.identity import members
from crm_core.identity.models import Team as TeamRow
from crm_core.identity.principal import Principal
from crm_core.tenants.models import Membership, Role


@strawberry.type(description="A sales or service team; its manager sees the team's records.")
class Team(Node):
    name: str
    manager_id: strawberry.ID | None

    @classmethod
    def from_model(cls, row: TeamRow) -> Team:
        manager = to_global_id("User", row.manager_user_id) if row.manager_user_id else None
        return cls(
            id=strawberry.ID(to_global_id("Team", row.id)),
            name=row.name,
            manager_id=strawberry.ID(manager) if manager else None,
        )


@strawberry.type(description="A person's membership in this company.")
class Member:
    user: User
    role: RoleEnum
    team: Team | None
    is_active: bool


@strawberry.input
class TeamInput:
    name: str
    manager_id: strawberry.ID | None = None


@strawberry.input
class MemberInput:
    role: RoleEnum | None = None
    team_id: strawberry.ID | None = None
    clear_team: bool = False
    is_active: bool | None = None


@strawberry.type
class TeamPayload:
    team: Team | None
    errors: list[UserError]


@strawberry.type
class MemberPayload:
    role: RoleEnum | None
    team_id: strawberry.ID | None
    is_active: bool | None
    errors: list[UserError]


def _user_pk(value: strawberry.ID, field: str) -> uuid.UUID:
    return from_global_id(value, field=field, expect="User")[1]


@strawberry.type
class MemberQueries:
    @strawberry.field(description="Everyone in this company.", extensions=requires("users:manage"))
    async def members(self, info: Info) -> list[Member]:
        async def load() -> list[Member]:
            async with info.context.tenant_db.read() as session:
                rows = await members.list_members(
                    session, info.context.require_principal().tenant.id
                )
            return [
                Member(
                    user=User.from_model(m.user),
                    role=RoleEnum(m.membership.role.value),
                    team=Team.from_model(m.team) if m.team else None,
                    is_active=m.membership.is_active,
                )
                for m in rows
            ]

        return await as_graphql_errors(load)

    @strawberry.field(description="The company's teams.")
    async def teams(self, info: Info) -> list[Team]:
        async def load() -> list[Team]:
            async with info.context.tenant_db.read() as session:
                rows = await members.list_teams(session, info.context.require_principal().tenant.id)
            return [Team.from_model(r) for r in rows]

        return await as_graphql_errors(load)


@strawberry.type
class MemberMutations:
    @strawberry.mutation(
        description="Create (no id) or rename a team and set its manager.",
        extensions=requires("users:manage"),
    )
    async def save_team(
        self, info: Info, input: TeamInput, id: strawberry.ID | None = None
    ) -> TeamPayload:
        async def work(session: AsyncSession, who: Principal) -> TeamRow:
            team_id = from_global_id(id, expect="Team")[1] if id else None
            manager = _user_pk(input.manager_id, "managerId") if input.manager_id else None
            return await members.save_team(
                session, who, team_id=team_id, name=input.name, manager_user_id=manager
            )

        row, errors = await run(info, work)
        return TeamPayload(team=Team.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Change a member's role, team or access.", extensions=requires("users:manage")
    )
    async def update_member(
        self, info: Info, user_id: strawberry.ID, input: MemberInput
    ) -> MemberPayload:
        async def work(session: AsyncSession, who: Principal) -> Membership:
            return await members.update_member(
                session,
                who,
                _user_pk(user_id, "userId"),
                role=Role(input.role.value) if input.role else None,
                team_id=from_global_id(input.team_id, field="teamId", expect="Team")[1]
                if input.team_id
                else None,
                clear_team=input.clear_team,
                active=input.is_active,
            )

        row, errors = await run(info, work)
        if row is None:
            return MemberPayload(role=None, team_id=None, is_active=None, errors=errors)
        team = strawberry.ID(to_global_id("Team", row.team_id)) if row.team_id else None
        return MemberPayload(
            role=RoleEnum(row.role.value), team_id=team, is_active=row.is_active, errors=errors
        )
