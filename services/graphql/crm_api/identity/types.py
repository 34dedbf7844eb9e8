"""GraphQL types of sign-in and sessions."""

from __future__ import annotations

import datetime

import strawberry

from crm_api.enums import RoleEnum
from crm_api.errors import UserError
from crm_core.identity.service import SignIn
from crm_core.tenants.models import Membership, Tenant


def _at(epoch: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


@strawberry.type(
    description="A signed-in session: send `accessToken` as `Authorization: Bearer …`; before it "
    "expires, trade `refreshToken` for a new session with `refreshSession` (each refresh token "
    "works once: keep only the newest, and refresh from one place at a time)."
)
class Session:
    access_token: str
    token_type: str
    expires_at: datetime.datetime
    refresh_token: str
    refresh_expires_at: datetime.datetime
    tenant_slug: str
    role: RoleEnum

    @classmethod
    def from_sign_in(cls, signed: SignIn) -> Session:
        return cls(
            access_token=signed.token,
            token_type="Bearer",  # noqa: S106 - the scheme's name
            expires_at=_at(signed.expires_at),
            refresh_token=signed.refresh_token,
            refresh_expires_at=_at(signed.refresh_expires_at),
            tenant_slug=signed.tenant_slug,
            role=RoleEnum(signed.role.value),
        )


@strawberry.type(description="A company you belong to and can switch to.")
class MyTenant:
    slug: str
    name: str
    role: RoleEnum
    current: bool = strawberry.field(description="The company of the current session.")

    @classmethod
    def from_models(cls, membership: Membership, tenant: Tenant, *, current: bool) -> MyTenant:
        return cls(
            slug=tenant.slug,
            name=tenant.name,
            role=RoleEnum(membership.role.value),
            current=current,
        )


@strawberry.input
class LoginInput:
    email: str
    password: str
    tenant: str | None = strawberry.field(
        default=None, description="Company slug; needed only when you belong to several."
    )


@strawberry.type
class LoginPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.type
class RefreshSessionPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.type
class SwitchTenantPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.type
class ChangePasswordPayload:
    session: Session | None = strawberry.field(
        description="A fresh session: every other sign-in of yours has ended."
    )
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError]


@strawberry.type
class RequestPasswordResetPayload:
    ok: bool = strawberry.field(
        description="Always true: whether the address has an account is not told."
    )
    errors: list[UserError]


@strawberry.type
class ResetPasswordPayload:
    ok: bool
    errors: list[UserError]
