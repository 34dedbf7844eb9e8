"""Sign-in, sessions and passwords over GraphQL. Thin: each resolver calls ``identity.service``
(or ``identity.password_reset``) and maps expected failures to ``errors``; every refusal of a
credential reads the same."""

from __future__ import annotations

import strawberry

from crm_api.context import Info
from crm_api.errors import user_errors
from crm_api.identity.sessions import client_info, client_ip, person, signed_in_person, throttle
from crm_api.identity.types import (
    ChangePasswordPayload,
    LoginInput,
    LoginPayload,
    LogoutPayload,
    RefreshSessionPayload,
    RequestPasswordResetPayload,
    ResetPasswordPayload,
    Session,
    SwitchTenantPayload,
)
from crm_core.errors import DomainError
from crm_core.identity import password_reset, service


@strawberry.type
class IdentityMutations:
    @strawberry.mutation(
        description="Sign in with e-mail and password; returns an access and a refresh token."
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        app = info.context.app
        try:
            signed = await service.login(
                app.db,
                app.tokens,
                throttle(info),
                email=input.email,
                password=input.password,
                tenant_slug=input.tenant,
                ip=client_ip(info),
                client_info=client_info(info),
            )
        except DomainError as exc:
            return LoginPayload(session=None, errors=user_errors(exc))
        return LoginPayload(session=Session.from_sign_in(signed), errors=[])

    @strawberry.mutation(
        description="Trade a refresh token for a new session. The token is used up: a second use "
        "of the same token ends the whole sign-in."
    )
    async def refresh_session(self, info: Info, refresh_token: str) -> RefreshSessionPayload:
        app = info.context.app
        try:
            signed = await service.refresh_session(
                app.db, app.tokens, refresh_token=refresh_token, client_info=client_info(info)
            )
        except DomainError as exc:
            return RefreshSessionPayload(session=None, errors=user_errors(exc, prefix=""))
        return RefreshSessionPayload(session=Session.from_sign_in(signed), errors=[])

    @strawberry.mutation(
        description="End this sign-in; with `everywhere`, every sign-in of yours on every device. "
        "Access tokens already issued stay valid until they expire (minutes)."
    )
    async def logout(
        self, info: Info, refresh_token: str, everywhere: bool = False
    ) -> LogoutPayload:
        try:
            await service.logout(
                info.context.app.db, refresh_token=refresh_token, everywhere=everywhere
            )
        except DomainError as exc:
            return LogoutPayload(ok=False, errors=user_errors(exc, prefix=""))
        return LogoutPayload(ok=True, errors=[])

    @strawberry.mutation(
        description="Open a session in another of your companies (see `myTenants`).",
        extensions=signed_in_person(),
    )
    async def switch_tenant(self, info: Info, tenant: str) -> SwitchTenantPayload:
        app = info.context.app
        try:
            signed = await service.switch_tenant(
                app.db,
                app.tokens,
                user_id=person(info).user_id,
                tenant_slug=tenant,
                client_info=client_info(info),
            )
        except DomainError as exc:
            return SwitchTenantPayload(session=None, errors=user_errors(exc, prefix=""))
        return SwitchTenantPayload(session=Session.from_sign_in(signed), errors=[])

    @strawberry.mutation(
        description="Set a new password; every other sign-in of yours ends.",
        extensions=signed_in_person(),
    )
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> ChangePasswordPayload:
        app, me = info.context.app, person(info)
        try:
            signed = await password_reset.change_password(
                app.db,
                app.tokens,
                throttle(info),
                user_id=me.user_id,
                tenant=me.tenant,
                role=me.role,
                current_password=current_password,
                new_password=new_password,
                ip=client_ip(info),
                client_info=client_info(info),
            )
        except DomainError as exc:
            return ChangePasswordPayload(session=None, errors=user_errors(exc, prefix=""))
        return ChangePasswordPayload(session=Session.from_sign_in(signed), errors=[])

    @strawberry.mutation(
        description="Mail a short-lived, single-use password-reset link if the address has an "
        "account. The answer is the same either way."
    )
    async def request_password_reset(self, info: Info, email: str) -> RequestPasswordResetPayload:
        app = info.context.app
        await password_reset.request_password_reset(
            app.db, throttle(info), app.settings.auth, email=email, ip=client_ip(info)
        )
        return RequestPasswordResetPayload(ok=True, errors=[])

    @strawberry.mutation(
        description="Set a new password with the token of a reset link; every sign-in ends."
    )
    async def reset_password(
        self, info: Info, token: str, new_password: str
    ) -> ResetPasswordPayload:
        try:
            await password_reset.reset_password(
                info.context.app.db, throttle(info), token=token, new_password=new_password
            )
        except DomainError as exc:
            return ResetPasswordPayload(ok=False, errors=user_errors(exc, prefix=""))
        return ResetPasswordPayload(ok=True, errors=[])
