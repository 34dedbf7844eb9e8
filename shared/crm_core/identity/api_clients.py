"""API clients: integrations that call the GraphQL API for one tenant, with the OAuth 2.0
client-credentials grant (RFC 6749 §4.4) at ``POST /oauth/token``.

A tenant admin (``api_clients:manage``) creates, lists, rotates and revokes them. The secret is shown
once, when it is made, and only its hash is stored. This module holds that management and the
rules of what a client may hold; checking a client's secret and tokens is in ``api_client_auth``.

**What a client may do.** A client acts with a fixed ceiling, ``CLIENT_ROLE`` (admin), *minus* the
management of people, settings and API clients (``NOT_GRANTABLE``): an integration must never be
able to add a member, change sign-in, or mint itself another client, whatever it is granted. Within
that ceiling it may do only what it was granted (``scopes``, permission names of the matrix) and,
for one token, only what it asked for (``scope`` at the token endpoint). Its ``Principal`` is
``role=CLIENT_ROLE`` with ``scopes`` set, so ``Principal.allows`` checks both. A grant is also
bounded by the granting admin's own role. Clients see every record of the tenant (no data scope),
and personal fields only with ``personal_data:read``.

**Secrets.** 256 random bits (``secrets``), stored as SHA-256 (``sha256:<hex>``), compared in
constant time. A slow password hash (argon2) protects *guessable* secrets; nothing can guess 256
random bits, so it would only spend CPU on every token request and hand an attacker a cheap way to
load the server. A key (HMAC with a pepper) would tie every secret to the master key's rotation and
add nothing for secrets of this strength.

**Rotation.** The new secret works at once; the one it replaces keeps working until the overlap ends
(default 24 h, 0 to cut it off now, at most a week), so a deployment can switch without downtime.
Rotating again during an overlap drops the older secret. Tokens already issued are not affected by
a rotation; revoking a client ends its tokens on their next request (the gateway reads the client's
row on each request, as it reads a user's membership).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db import admin
from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, FieldError, Forbidden, NotFound
from crm_core.identity.models import PlatformAuditEvent
from crm_core.identity.permissions import MATRIX
from crm_core.identity.principal import Principal
from crm_core.tenants.models import ApiClient, Role

PERMISSION = "api_clients:manage"
CLIENT_ROLE = Role.admin
NOT_GRANTABLE = frozenset({"users:manage", "settings:manage", PERMISSION})
GRANTABLE: frozenset[str] = MATRIX[CLIENT_ROLE] - NOT_GRANTABLE
KNOWN_PERMISSIONS: frozenset[str] = frozenset().union(*MATRIX.values())

CLIENT_ID_PREFIX = "crm_"
# A recognisable prefix lets secret scanners (and people) tell a leaked secret for what it is.
SECRET_PREFIX = "crmsec_"  # noqa: S105 - a prefix, not a secret
_HASH_SCHEME = "sha256:"

DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)
MAX_ACTIVE_CLIENTS = 50
MAX_LISTED = 200
MAX_NAME = 120
MAX_SCOPE_ITEMS = 100


def _now() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    return _HASH_SCHEME + hashlib.sha256(secret.encode()).hexdigest()


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)  # 32 bytes = 256 bits


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A client with its new secret: the only moment the secret exists outside the caller."""

    client: ApiClient
    secret: str


# -- rules ----------------------------------------------------------------------------------------


def _require(principal: Principal) -> None:
    # The GraphQL field declares the permission; checked again here because services are the
    # boundary every caller (CLI, console) goes through.
    if not principal.allows(PERMISSION):
        raise Forbidden(f"your role lacks {PERMISSION}")


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise DomainError.one("name", ErrorCode.REQUIRED, "an API client needs a name")
    if len(cleaned) > MAX_NAME:
        raise DomainError.one("name", ErrorCode.TOO_LONG, f"at most {MAX_NAME} characters")
    return cleaned


def validate_scopes(scopes: Sequence[str], grantor: Principal) -> list[str]:
    """The scopes to grant, sorted and without repeats; each problem is a field error.

    Only permission names of the matrix, only those a client may hold at all, and only those the
    granting person holds: nobody hands an integration more than they could do themselves."""
    if not scopes:
        raise DomainError.one("scopes", ErrorCode.REQUIRED, "grant at least one scope")
    if len(scopes) > MAX_SCOPE_ITEMS:
        raise DomainError.one(
            "scopes", ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_SCOPE_ITEMS} items per call"
        )
    errors: list[FieldError] = []
    for index, scope in enumerate(scopes):
        field = f"scopes.{index}"
        if scope not in KNOWN_PERMISSIONS:
            errors.append(FieldError(field, ErrorCode.INVALID, "unknown scope"))
        elif scope not in GRANTABLE:
            errors.append(
                FieldError(field, ErrorCode.FORBIDDEN, "an API client cannot hold this scope")
            )
        elif not grantor.allows(scope):
            errors.append(
                FieldError(field, ErrorCode.FORBIDDEN, "you cannot grant a scope your role lacks")
            )
    if errors:
        raise DomainError(errors)
    return sorted(set(scopes))


def _overlap_error() -> DomainError:
    hours = int(MAX_OVERLAP.total_seconds() // 3600)
    return DomainError.one("overlap_hours", ErrorCode.INVALID, f"between 0 and {hours} hours")


def check_overlap(overlap: timedelta) -> timedelta:
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise _overlap_error()
    return overlap


def overlap_from_hours(hours: float) -> timedelta:
    """Checked before ``timedelta()``, which overflows on absurd values (and NaN fails here)."""
    if not 0 <= hours <= MAX_OVERLAP.total_seconds() / 3600:
        raise _overlap_error()
    return timedelta(hours=hours)


# -- management (tenant admin) --------------------------------------------------------------------


def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    client: ApiClient,
    detail: dict[str, Any] | None = None,
) -> None:
    # Never the secret nor its hash: the audit log is read by more people than the database.
    session.add(
        PlatformAuditEvent(
            at=_now(),
            actor_user_id=principal.user_id,
            tenant_id=principal.tenant.id,
            action=action,
            target=client.client_id,
            detail=detail or {},
        )
    )


async def list_clients(
    db: Database, principal: Principal, *, include_revoked: bool = False
) -> Sequence[ApiClient]:
    _require(principal)
    stmt = select(ApiClient).where(ApiClient.tenant_id == principal.tenant.id)
    if not include_revoked:
        stmt = stmt.where(ApiClient.revoked_at.is_(None))
    stmt = stmt.order_by(ApiClient.created_at.desc(), ApiClient.id).limit(MAX_LISTED)
    async with db.core_session() as session:
        return (await session.execute(stmt)).scalars().all()


async def create(
    db: Database, principal: Principal, *, name: str, scopes: Sequence[str]
) -> IssuedSecret:
    _require(principal)
    errors: list[FieldError] = []
    cleaned_name, granted = "", []
    try:
        cleaned_name = _clean_name(name)
    except DomainError as exc:
        errors.extend(exc.errors)
    try:
        granted = validate_scopes(scopes, principal)
    except DomainError as exc:
        errors.extend(exc.errors)
    if errors:
        raise DomainError(errors)
    secret = new_secret()
    async with db.core_transaction() as session:
        # Serialise creations per tenant so the cap on active clients holds under concurrency.
        await admin.advisory_xact_lock(
            session, admin.lock_key("api-clients", str(principal.tenant.id))
        )
        active = (
            await session.execute(
                select(func.count()).where(
                    ApiClient.tenant_id == principal.tenant.id, ApiClient.revoked_at.is_(None)
                )
            )
        ).scalar_one()
        if active >= MAX_ACTIVE_CLIENTS:
            raise DomainError.one(
                None,
                ErrorCode.LIMIT_EXCEEDED,
                f"at most {MAX_ACTIVE_CLIENTS} active API clients; revoke one first",
            )
        client = ApiClient(
            tenant_id=principal.tenant.id,
            client_id=new_client_id(),
            name=cleaned_name,
            secret_hash=hash_secret(secret),
            scopes=granted,
            created_by=principal.user_id,
        )
        session.add(client)
        await session.flush()
        _audit(
            session,
            principal,
            "api_client.create",
            client,
            {"name": client.name, "scopes": granted},
        )
        await session.refresh(client)
    return IssuedSecret(client, secret)


async def _get_own(session: AsyncSession, principal: Principal, record_id: uuid.UUID) -> ApiClient:
    """Another tenant's client and a missing one give the same answer."""
    client = (
        await session.execute(
            select(ApiClient)
            .where(ApiClient.id == record_id, ApiClient.tenant_id == principal.tenant.id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if client is None:
        raise NotFound("id", "API client")
    return client


async def rotate(
    db: Database,
    principal: Principal,
    record_id: uuid.UUID,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
) -> IssuedSecret:
    _require(principal)
    check_overlap(overlap)
    secret = new_secret()
    now = _now()
    async with db.core_transaction() as session:
        client = await _get_own(session, principal, record_id)
        if client.revoked_at is not None:
            raise DomainError.one("id", ErrorCode.INVALID, "this API client is revoked")
        if overlap > timedelta(0):
            client.previous_secret_hash = client.secret_hash
            client.previous_secret_expires_at = now + overlap
        else:
            client.previous_secret_hash = client.previous_secret_expires_at = None
        client.secret_hash = hash_secret(secret)
        await session.flush()
        _audit(
            session,
            principal,
            "api_client.rotate",
            client,
            {"overlap_seconds": int(overlap.total_seconds())},
        )
        await session.refresh(client)
    return IssuedSecret(client, secret)


async def revoke(db: Database, principal: Principal, record_id: uuid.UUID) -> ApiClient:
    """Ends the client for good: its secrets stop at once, its tokens on their next request.
    Revoking a revoked client changes nothing."""
    _require(principal)
    async with db.core_transaction() as session:
        client = await _get_own(session, principal, record_id)
        if client.revoked_at is None:
            client.revoked_at = _now()
            client.previous_secret_hash = client.previous_secret_expires_at = None
            await session.flush()
            _audit(session, principal, "api_client.revoke", client)
            await session.refresh(client)
    return client
