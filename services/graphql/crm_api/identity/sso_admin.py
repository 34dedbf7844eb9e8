"""GraphQL: a tenant admin manages the company's single sign-on providers (``settings:manage``).

The client secret is write-only: inputs take it, no type has a field for it.
"""

from __future__ import annotations

import datetime
import uuid

import strawberry

from crm_api.context import Info
from crm_api.errors import UserError, as_graphql_errors, user_errors
from crm_api.permissions import requires
from crm_api.relay import from_global_id, to_global_id
from crm_core.errors import DomainError
from crm_core.identity import sso_providers
from crm_core.identity.models import SsoProvider as Row
from crm_core.security.crypto import load_master_key

TYPE_NAME = "SsoProvider"


@strawberry.type(description="An OpenID Connect provider your people sign in with.")
class SsoProvider:
    id: strawberry.ID
    name: str
    issuer: str = strawberry.field(
        description="Compared exactly with the id token's `iss`; discovery is read from "
        "`<issuer>/.well-known/openid-configuration`."
    )
    client_id: str
    allowed_domains: list[str] = strawberry.field(
        description="E-mail domains that may link or create an account (exact match)."
    )
    enabled: bool
    login_path: str = strawberry.field(
        description="Send a browser to this path on the gateway to sign in through this provider."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def from_model(cls, row: Row, tenant_slug: str) -> SsoProvider:
        return cls(
            id=strawberry.ID(to_global_id(TYPE_NAME, row.id)),
            name=row.name,
            issuer=row.issuer,
            client_id=row.client_id,
            allowed_domains=list(row.allowed_domains),
            enabled=row.enabled,
            login_path=f"/auth/sso/{tenant_slug}/{row.id}/login",
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.input
class RegisterSsoProviderInput:
    name: str
    issuer: str = strawberry.field(description="https; e.g. `https://login.example.com`.")
    client_id: str
    client_secret: str = strawberry.field(description="Stored encrypted; never returned.")
    allowed_domains: list[str]


@strawberry.input(description="Fields left out (or null) keep their value.")
class UpdateSsoProviderInput:
    name: str | None = None
    issuer: str | None = strawberry.field(
        default=None, description="A new issuer unlinks the accounts linked under the old one."
    )
    client_id: str | None = None
    client_secret: str | None = None
    allowed_domains: list[str] | None = None
    enabled: bool | None = None


@strawberry.type
class SsoProviderPayload:
    sso_provider: SsoProvider | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect=TYPE_NAME)[1]


@strawberry.type
class SsoAdminQueries:
    @strawberry.field(
        description="Your company's sign-in providers.", extensions=requires("settings:manage")
    )
    async def sso_providers(self, info: Info) -> list[SsoProvider]:
        principal = info.context.require_principal()
        rows = await as_graphql_errors(
            lambda: sso_providers.list_providers(info.context.app.db, principal)
        )
        return [SsoProvider.from_model(r, principal.tenant.slug) for r in rows]


@strawberry.type
class SsoAdminMutations:
    @strawberry.mutation(
        description="Register an OpenID Connect provider for your company.",
        extensions=requires("settings:manage"),
    )
    async def register_sso_provider(
        self, info: Info, input: RegisterSsoProviderInput
    ) -> SsoProviderPayload:
        ctx = info.context
        principal = ctx.require_principal()
        try:
            row = await sso_providers.register_provider(
                ctx.app.db,
                principal,
                key=load_master_key(ctx.settings),
                settings=ctx.settings,
                name=input.name,
                issuer=input.issuer,
                client_id=input.client_id,
                client_secret=input.client_secret,
                allowed_domains=input.allowed_domains,
            )
        except DomainError as exc:
            return SsoProviderPayload(sso_provider=None, errors=user_errors(exc))
        return SsoProviderPayload(
            sso_provider=SsoProvider.from_model(row, principal.tenant.slug), errors=[]
        )

    @strawberry.mutation(extensions=requires("settings:manage"))
    async def update_sso_provider(
        self, info: Info, id: strawberry.ID, input: UpdateSsoProviderInput
    ) -> SsoProviderPayload:
        ctx = info.context
        principal = ctx.require_principal()
        try:
            row = await sso_providers.update_provider(
                ctx.app.db,
                principal,
                _pk(id),
                key=load_master_key(ctx.settings),
                settings=ctx.settings,
                name=input.name,
                issuer=input.issuer,
                client_id=input.client_id,
                client_secret=input.client_secret,
                allowed_domains=input.allowed_domains,
                enabled=input.enabled,
            )
        except DomainError as exc:
            return SsoProviderPayload(sso_provider=None, errors=user_errors(exc))
        return SsoProviderPayload(
            sso_provider=SsoProvider.from_model(row, principal.tenant.slug), errors=[]
        )

    @strawberry.mutation(
        description="Stop sign-in through this provider at once; linked accounts are kept.",
        extensions=requires("settings:manage"),
    )
    async def disable_sso_provider(self, info: Info, id: strawberry.ID) -> SsoProviderPayload:
        ctx = info.context
        principal = ctx.require_principal()
        try:
            row = await sso_providers.disable_provider(ctx.app.db, principal, _pk(id))
        except DomainError as exc:
            return SsoProviderPayload(sso_provider=None, errors=user_errors(exc))
        return SsoProviderPayload(
            sso_provider=SsoProvider.from_model(row, principal.tenant.slug), errors=[]
        )
