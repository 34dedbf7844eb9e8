"""Helpers for the identity tests: people with fresh addresses, and the session mutations."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from crmtest import GQL, PASSWORD

from crm_core.db.engine import Database
from crm_core.identity.service import create_user
from crm_core.tenants.models import Role

SESSION = "session { accessToken expiresAt refreshToken refreshExpiresAt tenantSlug role }"
ERRORS = "errors { field code message }"
LOGIN = f"mutation($i: LoginInput!) {{ login(input: $i) {{ {SESSION} {ERRORS} }} }}"
REFRESH = f"mutation($t: String!) {{ refreshSession(refreshToken: $t) {{ {SESSION} {ERRORS} }} }}"
LOGOUT = (
    "mutation($t: String!, $e: Boolean!) { logout(refreshToken: $t, everywhere: $e) "
    f"{{ ok {ERRORS} }} }}"
)


class Identity:
    """Drives the gateway as a client would (over ASGI, from 127.0.0.1)."""

    def __init__(self, app: Any, db: Database) -> None:
        self.app = app
        self.db = db
        self.anon = GQL(app)

    async def person(self, *tenants: str, role: Role = Role.sales, password: str = PASSWORD) -> str:
        """A new user with a fresh address, member of each named tenant."""
        email = f"p{secrets.token_hex(5)}@example.cn"
        for slug in tenants or (None,):
            await create_user(
                self.db, email=email, name="Test Person", password=password,
                tenant_slug=slug, role=role,
            )  # fmt: skip
        return email

    async def login(
        self, email: str, password: str = PASSWORD, tenant: str | None = None
    ) -> dict[str, Any]:
        data = await self.anon(
            LOGIN, {"i": {"email": email, "password": password, "tenant": tenant}}
        )
        return data["login"]  # type: ignore[no-any-return]

    async def session(self, email: str, tenant: str | None = None) -> dict[str, Any]:
        payload = await self.login(email, tenant=tenant)
        assert payload["errors"] == [], payload
        return payload["session"]  # type: ignore[no-any-return]

    async def refresh(self, token: str) -> dict[str, Any]:
        return (await self.anon(REFRESH, {"t": token}))["refreshSession"]  # type: ignore[no-any-return]

    async def logout(self, token: str, everywhere: bool = False) -> dict[str, Any]:
        return (await self.anon(LOGOUT, {"t": token, "e": everywhere}))["logout"]  # type: ignore[no-any-return]

    def as_(self, session: dict[str, Any]) -> GQL:
        return GQL(self.app, session["accessToken"])

    @staticmethod
    def codes(payload: dict[str, Any]) -> list[str]:
        return [e["code"] for e in payload["errors"]]


@pytest.fixture
def ident(app: Any, db: Database, tenant_a: Any, tenant_b: Any) -> Identity:
    """Both look-alike tenants exist, so people can be members of alpha, bravo or both."""
    return Identity(app, db)
