"""The per-request GraphQL context: what the edge resolved, and per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from strawberry.types import Info as _Info

from crm_core.db.engine import Database, TenantDatabase
from crm_core.errors import Unauthenticated
from crm_core.identity.principal import Principal
from crm_core.identity.throttle import Throttle
from crm_core.identity.tokens import TokenService
from crm_core.messaging.outbox import Dispatcher
from crm_core.security.tenant_keys import TenantCipher, TenantKeys
from crm_core.settings import Settings
from crm_core.tenants.repository import time_zone_of

if TYPE_CHECKING:
    from crm_api.loaders import Loaders


@dataclass
class AppState:
    """Built once in the lifespan; shared by all requests."""

    settings: Settings
    db: Database
    tokens: TokenService
    dispatcher: Dispatcher
    keys: TenantKeys | None = None
    # Sign-in throttling (Redis); None only in tools that never sign anyone in.
    throttle: Throttle | None = None


@dataclass
class Context:
    app: AppState
    request: Request | None
    principal: Principal | None
    auth_error: str | None = None
    _loaders: Loaders | None = field(default=None, repr=False)
    _cipher: TenantCipher | None = field(default=None, repr=False)
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.app.settings

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated(self.auth_error or "sign-in required")
        return self.principal

    async def tenant_time_zone(self, session: AsyncSession) -> str:
        return await time_zone_of(session, self.require_principal().tenant.id)

    @property
    def mask_personal(self) -> bool:
        """Phones, e-mails and other personal fields are masked for roles without the
        personal-data permission (and for callers who are not signed in)."""
        return self.principal is None or not self.principal.sees_personal_data

    @property
    def tenant_db(self) -> TenantDatabase:
        return self.app.db.tenant(self.require_principal().tenant)

    async def cipher(self) -> TenantCipher:
        """The tenant's cipher for its encrypted fields (one lookup per process and tenant)."""
        if self._cipher is None:
            if self.app.keys is None:
                raise RuntimeError("no tenant key store configured")
            self._cipher = await self.app.keys.cipher(
                self.app.db, self.require_principal().tenant.id
            )
        return self._cipher

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            from crm_api.loaders import Loaders

            self._loaders = Loaders(self.tenant_db, self.require_principal())
        return self._loaders


Info = _Info[Context, Any]
