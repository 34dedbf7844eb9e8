"""Sign-in over GraphQL (the identity work adds refresh tokens, SSO and API clients)."""

from __future__ import annotations

import datetime

import strawberry

from crm_api.context import Info
from crm_api.enums import RoleEnum
from crm_api.errors import UserError, user_errors
from crm_core.errors import DomainError
from crm_core.identity import service


@strawberry.type
class Session:
    access_token: str
    token_type: str
    expires_at: datetime.datetime
    tenant_slug: str
    role: RoleEnum


@strawberry.type
class LoginPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.input
class LoginInput:
    email: str
    password: str
    tenant: str | None = strawberry.field(
        default=None, description="Company slug; needed only when you belong to several."
    )


@strawberry.type
class IdentityMutations:
    @strawberry.mutation(description="Sign in with e-mail and password; returns a bearer token.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        app = info.context.app
        try:
            signed = await service.login(
                app.db,
                app.tokens,
                email=input.email,
                password=input.password,
                tenant_slug=input.tenant,
            )
        except DomainError as exc:
            return LoginPayload(session=None, errors=user_errors(exc))
        return LoginPayload(
            session=Session(
                access_token=signed.token,
                token_type="Bearer",  # noqa: S106
                expires_at=datetime.datetime.fromtimestamp(signed.expires_at, datetime.UTC),
                tenant_slug=signed.tenant_slug,
                role=RoleEnum(signed.role.value),
            ),
            errors=[],
        )
