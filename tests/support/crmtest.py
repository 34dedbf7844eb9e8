"""Test helpers importable from any test module (the conftest is not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from crm_core.db.engine import Database
from crm_core.identity.keys import KeyStore
from crm_core.identity.principal import Principal
from crm_core.identity.service import create_user
from crm_core.identity.tokens import TokenService
from crm_core.security.crypto import load_master_key
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Role

PASSWORD = "correct horse battery"


def token_service(db: Database, settings: Settings, **auth: Any) -> TokenService:
    """Tokens signed with the gateway's own keys (same database and master key); ``auth``
    overrides settings such as the audience or the lifetime."""
    config = settings.auth.model_copy(update=auth)
    return TokenService(config, KeyStore(db, load_master_key(settings), config))


@dataclass
class TenantFixture:
    ref: TenantRef
    admin: Principal
    admin_email: str
    sales: Principal
    sales_email: str
    viewer_email: str


async def make_tenant(db: Database, slug: str) -> TenantFixture:
    tenant, _ = await tenants.create(db, tenants.TenantInput(slug=slug, name=f"{slug} Co."))
    ref = TenantRef(id=tenant.id, slug=tenant.slug)
    admin = await create_user(
        db,
        email=f"admin@{slug}.cn",
        name="Admin",
        password=PASSWORD,
        tenant_slug=slug,
        role=Role.admin,
    )
    sales = await create_user(
        db,
        email=f"sales@{slug}.cn",
        name="李娜",
        password=PASSWORD,
        tenant_slug=slug,
        role=Role.sales,
    )
    await create_user(
        db,
        email=f"viewer@{slug}.cn",
        name="Viewer",
        password=PASSWORD,
        tenant_slug=slug,
        role=Role.viewer,
    )
    return TenantFixture(
        ref=ref,
        admin=Principal(admin.id, ref, Role.admin),
        admin_email=admin.email,
        sales=Principal(sales.id, ref, Role.sales),
        sales_email=sales.email,
        viewer_email=f"viewer@{slug}.cn",
    )


class GQL:
    """A GraphQL client over the ASGI app (no network), signed in as one user."""

    def __init__(self, app: Any, token: str | None = None) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        )
        self.token = token

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        h = {"content-type": "application/json", **headers}
        if self.token:
            h["authorization"] = f"Bearer {self.token}"
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=h
        )

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.post(query, variables)
        body = response.json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]


LOGIN = "mutation($i: LoginInput!) { login(input: $i) { session { accessToken role } errors { field code message } } }"
