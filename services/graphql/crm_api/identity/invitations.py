"""GraphQL: invite people to the company (``users:manage``) and accept an invitation (public).

The invitation link's token exists only in the mail; no type has a field for it. Accepting is
public (the token is the credential) and signs the person in like ``login``; for an address that
already has an account, ``password`` must be that account's password (``crm_core.identity.
invitations``).
"""

from __future__ import annotations

import datetime
import enum

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.enums import RoleEnum
from crm_api.errors import UserError, as_graphql_errors, user_errors
from crm_api.identity.sessions import client_info, client_ip, throttle
from crm_api.identity.types import Session
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id, to_global_id
from crm_core.errors import DomainError
from crm_core.identity import invitations
from crm_core.identity.models import Invitation as Row
from crm_core.identity.principal import Principal
from crm_core.identity.service import start_session
from crm_core.tenants.models import Role

TYPE_NAME = "Invitation"
PERMISSION = invitations.PERMISSION
MAX_PAGE = 200


@strawberry.enum(description="Where an invitation stands.")
class InvitationStatus(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


@strawberry.type(description="A person invited by e-mail to join this company.")
class Invitation:
    id: strawberry.ID
    email: str
    name: str | None
    role: RoleEnum
    team_id: strawberry.ID | None
    status: InvitationStatus
    expires_at: datetime.datetime
    send_count: int = strawberry.field(description="Mails sent (1 + resends).")
    invited_by_id: strawberry.ID | None
    accepted_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    created_at: datetime.datetime

    @classmethod
    def from_model(cls, row: Row) -> Invitation:
        return cls(
            id=strawberry.ID(to_global_id(TYPE_NAME, row.id)),
            email=row.email,
            name=row.name,
            role=RoleEnum(row.role.value),
            team_id=strawberry.ID(to_global_id("Team", row.team_id)) if row.team_id else None,
            status=InvitationStatus(invitations.status_of(row).value),
            expires_at=row.expires_at,
            send_count=row.sends,
            invited_by_id=strawberry.ID(to_global_id("User", row.invited_by))
            if row.invited_by
            else None,
            accepted_at=row.accepted_at,
            revoked_at=row.revoked_at,
            created_at=row.created_at,
        )


@strawberry.input
class InviteMemberInput:
    email: str
    role: RoleEnum
    name: str | None = None
    team_id: strawberry.ID | None = None


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None
    errors: list[UserError]


@strawberry.type
class AcceptInvitationPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.type
class InvitationQueries:
    @strawberry.field(
        description="This company's invitations, newest first.", extensions=requires(PERMISSION)
    )
    async def invitations(
        self, info: Info, status: InvitationStatus | None = None, first: int = 100
    ) -> list[Invitation]:
        async def load() -> list[Invitation]:
            async with info.context.tenant_db.read() as session:
                rows = await invitations.list_invitations(
                    session,
                    info.context.require_principal(),
                    status=invitations.InvitationStatus(status.value) if status else None,
                    limit=max(1, min(first, MAX_PAGE)),
                )
            return [Invitation.from_model(r) for r in rows]

        return await as_graphql_errors(load)


@strawberry.type
class InvitationMutations:
    @strawberry.mutation(
        description="Invite a person by e-mail to this company with a role (and a team); they get "
        "a mail with a single-use link.",
        extensions=requires(PERMISSION),
    )
    async def invite_member(self, info: Info, input: InviteMemberInput) -> InvitationPayload:
        settings = info.context.app.settings.auth

        async def work(session: AsyncSession, who: Principal) -> Row:
            team = (
                from_global_id(input.team_id, field="teamId", expect="Team")[1]
                if input.team_id
                else None
            )
            return await invitations.invite(
                session,
                who,
                settings,
                email=input.email,
                role=Role(input.role.value),
                name=input.name,
                team_id=team,
                ip=client_ip(info),
            )

        row, errors = await run(info, work)
        return InvitationPayload(
            invitation=Invitation.from_model(row) if row else None, errors=errors
        )

    @strawberry.mutation(
        description="Mail a new link (the previous one stops working) with a fresh expiry.",
        extensions=requires(PERMISSION),
    )
    async def resend_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        settings = info.context.app.settings.auth

        async def work(session: AsyncSession, who: Principal) -> Row:
            return await invitations.resend(
                session, who, settings, from_global_id(id, expect=TYPE_NAME)[1], ip=client_ip(info)
            )

        row, errors = await run(info, work)
        return InvitationPayload(
            invitation=Invitation.from_model(row) if row else None, errors=errors
        )

    @strawberry.mutation(
        description="Withdraw an invitation: its link stops working.",
        extensions=requires(PERMISSION),
    )
    async def revoke_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await invitations.revoke(
                session, who, from_global_id(id, expect=TYPE_NAME)[1], ip=client_ip(info)
            )

        row, errors = await run(info, work)
        return InvitationPayload(
            invitation=Invitation.from_model(row) if row else None, errors=errors
        )

    @strawberry.mutation(
        description="Accept an invitation with the token of its link and sign in. A new account "
        "takes `name` and `password`; an existing account gives its own password (name unused)."
    )
    async def accept_invitation(
        self, info: Info, token: str, password: str, name: str | None = None
    ) -> AcceptInvitationPayload:
        app = info.context.app
        try:
            accepted = await invitations.accept(
                app.db,
                token=token,
                name=name,
                password=password,
                verify_existing=True,
                throttle=throttle(info),
                ip=client_ip(info),
            )
            signed = await start_session(
                app.db,
                app.tokens,
                user_id=accepted.user_id,
                tenant=accepted.tenant,
                role=accepted.role,
                client_info=client_info(info),
            )
        except DomainError as exc:
            return AcceptInvitationPayload(session=None, errors=user_errors(exc, prefix=""))
        return AcceptInvitationPayload(session=Session.from_sign_in(signed), errors=[])
