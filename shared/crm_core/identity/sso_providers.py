"""SSO providers: a tenant's OpenID Connect providers, registered, validated, listed, updated and
disabled by a tenant admin (``settings:manage``), and looked up for a sign-in.

A provider belongs to exactly one tenant. Its client secret is stored encrypted with the master key,
bound to the provider's id (``sso-client-secret:<id>``), and is never read back out through the API.
Who a provider's id token signs in is decided in ``identity.sso_accounts``.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, FieldError, Forbidden, NotFound
from crm_core.identity.models import PlatformAuditEvent, SsoProvider, UserIdentity
from crm_core.identity.principal import Principal
from crm_core.security.crypto import MasterKey
from crm_core.settings import Settings
from crm_core.tenants.models import Tenant, TenantStatus

PERMISSION = "settings:manage"
MAX_DOMAINS = 50
MAX_SECRET = 2_000
# One DNS label: letters, digits, hyphens inside; the domain needs at least two labels so that a
# bare public suffix ("com") cannot be allowed by mistake.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def secret_purpose(provider_id: uuid.UUID) -> str:
    """The associated data of the client secret's ciphertext: it decrypts for this provider only."""
    return f"sso-client-secret:{provider_id}"


def client_secret(key: MasterKey, provider: SsoProvider) -> str:
    return key.decrypt(
        provider.client_secret_encrypted, purpose=secret_purpose(provider.id)
    ).decode()


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_provider_url(url: str, settings: Settings, field: str) -> str:
    """https only; plain http is accepted for loopback hosts outside production (local providers
    and the test suite), never for anything that crosses a network."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise DomainError.one(field, ErrorCode.INVALID, "not a valid URL") from None
    if not host or parts.username is not None or parts.password is not None:
        raise DomainError.one(field, ErrorCode.INVALID, "needs a host and no user info")
    if parts.query or parts.fragment:
        raise DomainError.one(field, ErrorCode.INVALID, "must not carry a query or fragment")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and not settings.is_production and is_loopback_host(host):
        return url
    raise DomainError.one(field, ErrorCode.INVALID, "must use https")


def _ascii_domain(domain: str) -> str:
    """Lower-case ASCII (punycode) form, so an allowed domain and an e-mail's domain compare equal
    however each was typed."""
    return domain.strip().rstrip(".").lower().encode("idna").decode("ascii")


def normalize_domains(raw: Sequence[str], field: str = "allowed_domains") -> list[str]:
    if len(raw) > MAX_DOMAINS:
        raise DomainError.one(field, ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_DOMAINS} domains")
    out: list[str] = []
    errors: list[FieldError] = []
    for i, item in enumerate(raw):
        try:
            domain = _ascii_domain(item)
        except UnicodeError:
            domain = ""
        labels = domain.split(".")
        if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
            errors.append(FieldError(f"{field}.{i}", ErrorCode.INVALID, "not a valid domain"))
        elif domain not in out:
            out.append(domain)
    if errors:
        raise DomainError(errors)
    if not out:
        raise DomainError.one(field, ErrorCode.REQUIRED, "allow at least one e-mail domain")
    return out


def _text(value: str, field: str, max_len: int) -> str:
    value = value.strip()
    if not value:
        raise DomainError.one(field, ErrorCode.REQUIRED, "required")
    if len(value) > max_len:
        raise DomainError.one(field, ErrorCode.TOO_LONG, f"at most {max_len} characters")
    if _CONTROL.search(value):
        raise DomainError.one(field, ErrorCode.INVALID, "must not contain control characters")
    return value


def _require(principal: Principal) -> None:
    # The GraphQL field declares the permission; checked again here because services are the
    # boundary every caller (CLI, console) goes through.
    if not principal.allows(PERMISSION):
        raise Forbidden(f"your role lacks {PERMISSION}")


def _audit(
    session: AsyncSession,
    *,
    action: str,
    tenant_id: uuid.UUID,
    actor: uuid.UUID | None,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        PlatformAuditEvent(
            at=datetime.now(UTC),
            actor_user_id=actor,
            tenant_id=tenant_id,
            action=action,
            target=target,
            detail=detail or {},
        )
    )


async def list_providers(db: Database, principal: Principal) -> Sequence[SsoProvider]:
    _require(principal)
    async with db.core_session() as session:
        stmt = (
            select(SsoProvider)
            .where(SsoProvider.tenant_id == principal.tenant.id)
            .order_by(SsoProvider.name, SsoProvider.id)
        )
        return (await session.execute(stmt)).scalars().all()


async def _get_own(
    session: AsyncSession, principal: Principal, provider_id: uuid.UUID
) -> SsoProvider:
    """Another tenant's provider and a missing one give the same answer."""
    row = (
        await session.execute(
            select(SsoProvider)
            .where(SsoProvider.id == provider_id, SsoProvider.tenant_id == principal.tenant.id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("id", "SSO provider")
    return row


def _duplicate_issuer() -> DomainError:
    return DomainError.one(
        "issuer", ErrorCode.DUPLICATE, "this company already has a provider with that issuer"
    )


async def register_provider(
    db: Database,
    principal: Principal,
    *,
    key: MasterKey,
    settings: Settings,
    name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    allowed_domains: Sequence[str],
) -> SsoProvider:
    _require(principal)
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    checks: list[tuple[str, Any]] = [
        ("name", lambda: _text(name, "name", 80)),
        ("issuer", lambda: check_provider_url(_text(issuer, "issuer", 300), settings, "issuer")),
        ("client_id", lambda: _text(client_id, "client_id", 200)),
        ("client_secret", lambda: _text(client_secret, "client_secret", MAX_SECRET)),
        ("allowed_domains", lambda: normalize_domains(allowed_domains)),
    ]
    for field, check in checks:
        try:
            values[field] = check()
        except DomainError as exc:
            errors.extend(exc.errors)
    if errors:
        raise DomainError(errors)
    provider_id = uuid.uuid4()
    row = SsoProvider(
        id=provider_id,
        tenant_id=principal.tenant.id,
        name=values["name"],
        issuer=values["issuer"],
        client_id=values["client_id"],
        client_secret_encrypted=key.encrypt(
            values["client_secret"].encode(), purpose=secret_purpose(provider_id)
        ),
        allowed_domains=values["allowed_domains"],
        enabled=True,
    )
    try:
        async with db.core_transaction() as session:
            session.add(row)
            await session.flush()
            _audit(
                session,
                action="sso.provider.register",
                tenant_id=principal.tenant.id,
                actor=principal.user_id,
                target=str(provider_id),
                detail={"issuer": row.issuer, "client_id": row.client_id},
            )
    except IntegrityError:
        raise _duplicate_issuer() from None
    return await _reload(db, provider_id)


async def _reload(db: Database, provider_id: uuid.UUID) -> SsoProvider:
    """Timestamps are set by the database: read the row back for the caller (and the client
    cache, which keys on ``updated_at``)."""
    async with db.core_session() as session:
        row = await session.get(SsoProvider, provider_id)
        assert row is not None
        return row


async def update_provider(
    db: Database,
    principal: Principal,
    provider_id: uuid.UUID,
    *,
    key: MasterKey,
    settings: Settings,
    name: str | None = None,
    issuer: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    allowed_domains: Sequence[str] | None = None,
    enabled: bool | None = None,
) -> SsoProvider:
    """Fields left None are kept. A new issuer drops the identities linked under the old one:
    subjects are only unique per issuer, so they mean nothing at the new one."""
    _require(principal)
    try:
        async with db.core_transaction() as session:
            row = await _get_own(session, principal, provider_id)
            changed: list[str] = []
            if name is not None:
                row.name = _text(name, "name", 80)
                changed.append("name")
            if issuer is not None:
                new_issuer = check_provider_url(_text(issuer, "issuer", 300), settings, "issuer")
                if new_issuer != row.issuer:
                    await session.execute(
                        delete(UserIdentity).where(UserIdentity.provider_id == row.id)
                    )
                    row.issuer = new_issuer
                    changed.append("issuer")
            if client_id is not None:
                row.client_id = _text(client_id, "client_id", 200)
                changed.append("client_id")
            if client_secret is not None:
                secret = _text(client_secret, "client_secret", MAX_SECRET)
                row.client_secret_encrypted = key.encrypt(
                    secret.encode(), purpose=secret_purpose(row.id)
                )
                changed.append("client_secret")
            if allowed_domains is not None:
                row.allowed_domains = normalize_domains(allowed_domains)
                changed.append("allowed_domains")
            if enabled is not None:
                row.enabled = enabled
                changed.append("enabled")
            await session.flush()
            _audit(
                session,
                action="sso.provider.update",
                tenant_id=principal.tenant.id,
                actor=principal.user_id,
                target=str(row.id),
                detail={"changed": changed},
            )
    except IntegrityError:
        raise _duplicate_issuer() from None
    return await _reload(db, provider_id)


async def disable_provider(
    db: Database, principal: Principal, provider_id: uuid.UUID
) -> SsoProvider:
    """Sign-in through it stops at once; linked identities are kept for a later re-enable."""
    _require(principal)
    async with db.core_transaction() as session:
        row = await _get_own(session, principal, provider_id)
        row.enabled = False
        _audit(
            session,
            action="sso.provider.disable",
            tenant_id=principal.tenant.id,
            actor=principal.user_id,
            target=str(row.id),
        )
    return await _reload(db, provider_id)


def _live(tenant: Tenant) -> bool:
    return tenant.status is TenantStatus.active and tenant.provisioned_at is not None


async def provider_for_login(
    db: Database, *, tenant_slug: str, provider_id: uuid.UUID
) -> tuple[SsoProvider, Tenant] | None:
    """The enabled provider with that id *in that tenant*; a provider of another tenant is None."""
    async with db.core_session() as session:
        found = (
            await session.execute(
                select(SsoProvider, Tenant)
                .join(Tenant, Tenant.id == SsoProvider.tenant_id)
                .where(
                    SsoProvider.id == provider_id,
                    SsoProvider.enabled.is_(True),
                    Tenant.slug == tenant_slug.strip().lower(),
                )
            )
        ).one_or_none()
    if found is None or not _live(found[1]):
        return None
    return found[0], found[1]


async def provider_for_callback(
    db: Database, *, provider_id: uuid.UUID, tenant_id: uuid.UUID
) -> tuple[SsoProvider, Tenant] | None:
    async with db.core_session() as session:
        found = (
            await session.execute(
                select(SsoProvider, Tenant)
                .join(Tenant, Tenant.id == SsoProvider.tenant_id)
                .where(
                    SsoProvider.id == provider_id,
                    SsoProvider.tenant_id == tenant_id,
                    SsoProvider.enabled.is_(True),
                )
            )
        ).one_or_none()
    if found is None or not _live(found[1]):
        return None
    return found[0], found[1]
