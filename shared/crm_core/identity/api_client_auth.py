"""API client authentication: the token endpoint's check of a client's id and secret, the scopes
of one token, and the gateway's per-request check that a token's client is still live, with the
``Principal`` it acts as. Creating, rotating and revoking clients, and the rules of what a client
may hold, are in ``identity.api_clients``.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.identity.api_clients import CLIENT_ROLE, GRANTABLE, SECRET_PREFIX, _now, hash_secret
from crm_core.identity.principal import Principal
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import ApiClient, Tenant, TenantStatus

TOUCH_INTERVAL = timedelta(minutes=1)  # ``last_used_at`` is written at most this often
# Longer than any id or secret we issue: refused before touching the database.
MAX_CREDENTIAL_LENGTH = 200


# Compared against when the client id is unknown, so that path does the same work.
_DUMMY_HASH = hash_secret(SECRET_PREFIX + "0" * 43)


def _same(presented: str, stored: str | None) -> bool:
    if stored is None:
        return False
    return hmac.compare_digest(presented.encode(), stored.encode())


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    """A live client as the token endpoint and the gateway see it."""

    id: uuid.UUID
    client_id: str
    tenant: TenantRef
    tenant_active: bool
    scopes: frozenset[str]


class InvalidScope(Exception):
    """The scope asked for at the token endpoint is not within what the client was granted."""


def narrow_scopes(granted: frozenset[str], requested: str | None) -> frozenset[str]:
    """The scopes of one token: all that were granted when none are asked for (RFC 6749 §3.3
    lets the server pick a default), else exactly those asked for, which must all be granted."""
    allowed = granted & GRANTABLE
    wanted = frozenset(requested.split()) if requested and requested.strip() else allowed
    if not wanted or not wanted <= allowed:
        raise InvalidScope
    return wanted


def principal_for(client: AuthenticatedClient, token_scopes: frozenset[str]) -> Principal:
    """The principal of a client's request: the token's scopes, cut again to what the client
    holds today and to what any client may hold (so neither a stale token nor an edited row can
    reach past the ceiling)."""
    return Principal(
        user_id=client.id,
        tenant=client.tenant,
        role=CLIENT_ROLE,
        scopes=token_scopes & client.scopes & GRANTABLE,
        client_id=client.client_id,
    )


# -- use (token endpoint and gateway) -------------------------------------------------------------


def _live(client: ApiClient, slug: str, status: TenantStatus) -> AuthenticatedClient:
    return AuthenticatedClient(
        id=client.id,
        client_id=client.client_id,
        tenant=TenantRef(id=client.tenant_id, slug=slug),
        tenant_active=status is TenantStatus.active,
        scopes=frozenset(client.scopes),
    )


async def _touch(session: AsyncSession, client: ApiClient, now: datetime) -> bool:
    """Record use at most once a minute: a write per request would turn every API call into a
    row update. The condition is repeated in SQL so concurrent gateways write it once."""
    if client.last_used_at is not None and now - client.last_used_at < TOUCH_INTERVAL:
        return False
    await session.execute(
        update(ApiClient)
        .where(
            ApiClient.id == client.id,
            or_(ApiClient.last_used_at.is_(None), ApiClient.last_used_at < now - TOUCH_INTERVAL),
        )
        # Use is not a change of the client: keep ``updated_at`` as it was.
        .values(last_used_at=now, updated_at=ApiClient.updated_at)
        .execution_options(synchronize_session=False)
    )
    return True


async def _find(
    session: AsyncSession, *conditions: ColumnElement[bool]
) -> tuple[ApiClient, str, TenantStatus] | None:
    """A live (not revoked) client of a provisioned tenant, with the tenant's slug and status."""
    stmt = (
        select(ApiClient, Tenant.slug, Tenant.status)
        .join(Tenant, Tenant.id == ApiClient.tenant_id)
        .where(ApiClient.revoked_at.is_(None), Tenant.provisioned_at.is_not(None), *conditions)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    client, slug, status = row
    return client, slug, status


async def authenticate(db: Database, client_id: str, secret: str) -> AuthenticatedClient | None:
    """The client these credentials prove, or None: an unknown id, a wrong or expired secret and
    a revoked client are the same answer. The tenant's status is left to the caller, which tells
    a client that proved itself why it is refused."""
    if len(client_id) > MAX_CREDENTIAL_LENGTH or len(secret) > MAX_CREDENTIAL_LENGTH:
        return None
    presented = hash_secret(secret)
    now = _now()
    async with db.core_session() as session:
        found = await _find(session, ApiClient.client_id == client_id)
        if found is None:
            _same(presented, _DUMMY_HASH)
            return None
        client, slug, status = found
        current = _same(presented, client.secret_hash)
        expires = client.previous_secret_expires_at
        previous = _same(presented, client.previous_secret_hash) and bool(expires and now < expires)
        if not (current or previous):
            return None
        if await _touch(session, client, now):
            await session.commit()
        return _live(client, slug, status)


async def access_for_token(
    db: Database, *, record_id: uuid.UUID, client_id: str, tenant_id: uuid.UUID
) -> AuthenticatedClient | None:
    """The client a verified token names, if it still exists, is not revoked, and belongs to the
    tenant the token names; read on every request so a revocation takes effect at once."""
    async with db.core_session() as session:
        found = await _find(
            session,
            ApiClient.id == record_id,
            ApiClient.client_id == client_id,
            ApiClient.tenant_id == tenant_id,
        )
        if found is None:
            return None
        client, slug, status = found
        if status is TenantStatus.active and await _touch(session, client, _now()):
            await session.commit()
        return _live(client, slug, status)
