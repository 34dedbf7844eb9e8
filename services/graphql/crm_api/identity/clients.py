"""GraphQL: a tenant admin manages the company's API clients (``api_clients:manage``).

The client secret exists in exactly two fields, ``clientSecret`` of the create and rotate payloads,
returned once; no type has a field for it and nothing else (logs, spans, audit) ever holds it.
Integrations trade ``clientId`` + ``clientSecret`` for an access token at ``POST /oauth/token``.
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
from crm_core.identity import api_clients
from crm_core.tenants.models import ApiClient as Row

TYPE_NAME = "ApiClient"
PERMISSION = api_clients.PERMISSION


@strawberry.type(
    description="An integration that calls this API for your company with the OAuth 2.0 "
    "client-credentials grant at `POST /oauth/token`."
)
class ApiClient:
    id: strawberry.ID
    client_id: str = strawberry.field(description="Public; sent with the secret to get tokens.")
    name: str
    scopes: list[str] = strawberry.field(
        description="Permissions granted (e.g. `customer:read`); a token holds these or fewer."
    )
    previous_secret_expires_at: datetime.datetime | None = strawberry.field(
        description="Until then the secret replaced by the last rotation still works."
    )
    last_used_at: datetime.datetime | None = strawberry.field(
        description="Last token issued or request made (updated at most once a minute)."
    )
    revoked_at: datetime.datetime | None
    created_at: datetime.datetime

    @classmethod
    def from_model(cls, row: Row) -> ApiClient:
        expires = row.previous_secret_expires_at
        return cls(
            id=strawberry.ID(to_global_id(TYPE_NAME, row.id)),
            client_id=row.client_id,
            name=row.name,
            scopes=list(row.scopes),
            previous_secret_expires_at=expires
            if expires and expires > datetime.datetime.now(datetime.UTC)
            else None,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            created_at=row.created_at,
        )


@strawberry.input
class CreateApiClientInput:
    name: str
    scopes: list[str] = strawberry.field(
        description="Permission names; see `apiClientScopes` for those a client may hold."
    )


_SHOWN_ONCE = (
    "Shown this once and never again (only a hash is kept): store it now. Null when there "
    "are errors."
)


@strawberry.type
class CreateApiClientPayload:
    api_client: ApiClient | None
    client_secret: str | None = strawberry.field(description=_SHOWN_ONCE)
    errors: list[UserError]


@strawberry.type
class RotateApiClientSecretPayload:
    api_client: ApiClient | None
    client_secret: str | None = strawberry.field(description=_SHOWN_ONCE)
    errors: list[UserError]


@strawberry.type
class RevokeApiClientPayload:
    api_client: ApiClient | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect=TYPE_NAME)[1]


@strawberry.type
class ApiClientQueries:
    @strawberry.field(
        description="Your company's API clients, newest first.", extensions=requires(PERMISSION)
    )
    async def api_clients(self, info: Info, include_revoked: bool = False) -> list[ApiClient]:
        principal = info.context.require_principal()
        rows = await as_graphql_errors(
            lambda: api_clients.list_clients(
                info.context.app.db, principal, include_revoked=include_revoked
            )
        )
        return [ApiClient.from_model(r) for r in rows]

    @strawberry.field(
        description="The scopes an API client may be granted.", extensions=requires(PERMISSION)
    )
    def api_client_scopes(self) -> list[str]:
        return sorted(api_clients.GRANTABLE)


@strawberry.type
class ApiClientMutations:
    @strawberry.mutation(
        description="Create an API client; its secret is in this answer only.",
        extensions=requires(PERMISSION),
    )
    async def create_api_client(
        self, info: Info, input: CreateApiClientInput
    ) -> CreateApiClientPayload:
        ctx = info.context
        try:
            issued = await api_clients.create(
                ctx.app.db, ctx.require_principal(), name=input.name, scopes=input.scopes
            )
        except DomainError as exc:
            return CreateApiClientPayload(
                api_client=None, client_secret=None, errors=user_errors(exc)
            )
        return CreateApiClientPayload(
            api_client=ApiClient.from_model(issued.client), client_secret=issued.secret, errors=[]
        )

    @strawberry.mutation(
        description="Give the client a new secret (in this answer only). The old one keeps "
        "working for `overlapHours` (0 ends it now; at most 168) so you can switch without "
        "downtime.",
        extensions=requires(PERMISSION),
    )
    async def rotate_api_client_secret(
        self, info: Info, id: strawberry.ID, overlap_hours: float = 24.0
    ) -> RotateApiClientSecretPayload:
        ctx = info.context
        try:
            issued = await api_clients.rotate(
                ctx.app.db,
                ctx.require_principal(),
                _pk(id),
                overlap=api_clients.overlap_from_hours(overlap_hours),
            )
        except DomainError as exc:
            return RotateApiClientSecretPayload(
                api_client=None, client_secret=None, errors=user_errors(exc, prefix="")
            )
        return RotateApiClientSecretPayload(
            api_client=ApiClient.from_model(issued.client), client_secret=issued.secret, errors=[]
        )

    @strawberry.mutation(
        description="Revoke the client for good: its secrets stop at once, its tokens on their "
        "next request.",
        extensions=requires(PERMISSION),
    )
    async def revoke_api_client(self, info: Info, id: strawberry.ID) -> RevokeApiClientPayload:
        ctx = info.context
        try:
            row = await api_clients.revoke(ctx.app.db, ctx.require_principal(), _pk(id))
        except DomainError as exc:
            return RevokeApiClientPayload(api_client=None, errors=user_errors(exc, prefix=""))
        return RevokeApiClientPayload(api_client=ApiClient.from_model(row), errors=[])
