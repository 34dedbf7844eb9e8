"""Single sign-on per tenant with OpenID Connect: provider registration and account resolution.

A provider belongs to exactly one tenant. Its client secret is stored encrypted with the master key,
bound to the provider's id (``sso-client-secret:<id>``), and is never read back out through the API.

Who an id token signs in (``resolve_account``), in order:

1. **(issuer, subject)** already linked → that user, if the identity was linked through *this*
   provider and the user is still an active member of the provider's tenant. An identity linked
   under another tenant's provider (same issuer registered by two tenants) never signs in here:
   the tenant that linked it owns that link.
2. Otherwise the e-mail may link, only when the provider says ``email_verified: true`` (the JSON
   boolean, nothing else) **and** the e-mail's domain is one of the provider's ``allowed_domains``
   (exact match: list sub-domains explicitly):
   - an existing user with that e-mail who is an active member of this tenant gets the identity
     linked, unless they already have another subject at this issuer (an issuer that hands the same
     e-mail to a second account must not take over the first);
   - an existing user who is *not* a member of this tenant is refused: a tenant's provider must not
     pull another tenant's user into it (an admin adds the membership first, then SSO links);
   - no user with that e-mail → the user is created, without a password, with a membership in this
     tenant with role ``viewer`` (least privilege; an admin raises it).
3. Anything else is refused, and nothing is written.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
from crm_core.identity.service import normalize_login_email
from crm_core.security.crypto import MasterKey
from crm_core.settings import Settings
from crm_core.tenants.models import Membership, Role, Tenant, TenantStatus, User

PERMISSION = "settings:manage"
SSO_DEFAULT_ROLE = Role.viewer
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


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """What a validated id token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedAccount:
    user_id: uuid.UUID
    tenant: Tenant
    role: Role
    outcome: str  # "matched" | "linked" | "created"


class SsoRefused(DomainError):
    """The provider vouched for someone who may not sign in to this tenant through it."""

    def __init__(self, message: str) -> None:
        super().__init__([FieldError(None, ErrorCode.FORBIDDEN, message)])


async def _active_membership(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return (
        await session.execute(
            select(Membership).where(
                Membership.tenant_id == tenant_id,
                Membership.user_id == user_id,
                Membership.is_active.is_(True),
            )
        )
    ).scalar_one_or_none()


async def resolve_account(
    db: Database, *, provider_id: uuid.UUID, identity: ExternalIdentity
) -> ResolvedAccount:
    """Apply the rule of the module docstring in one transaction. Two first sign-ins of the same
    person racing each other: the loser hits a unique constraint and retries, then matches."""
    for attempt in range(2):
        try:
            async with db.core_transaction() as session:
                return await _resolve(session, provider_id, identity)
        except IntegrityError:
            if attempt:
                raise SsoRefused("sign-in conflicted with another one; try again") from None
    raise AssertionError("unreachable")


async def _resolve(
    session: AsyncSession, provider_id: uuid.UUID, identity: ExternalIdentity
) -> ResolvedAccount:
    provider = await session.get(SsoProvider, provider_id)
    if provider is None or not provider.enabled:
        raise SsoRefused("this sign-in provider is not enabled")
    tenant = await session.get(Tenant, provider.tenant_id)
    if tenant is None or not _live(tenant):
        raise SsoRefused("this company's account is not active")
    if identity.issuer != provider.issuer or not identity.subject:
        raise SsoRefused("the id token was not issued by this provider")

    linked = (
        await session.execute(
            select(UserIdentity)
            .where(UserIdentity.issuer == identity.issuer, UserIdentity.subject == identity.subject)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if linked is not None:
        if linked.provider_id != provider.id:
            raise SsoRefused("this account is linked through another company's provider")
        user = await session.get(User, linked.user_id)
        membership = await _active_membership(session, tenant.id, linked.user_id)
        if user is None or not user.is_active or membership is None:
            raise SsoRefused("this account has no access to this company")
        linked.email = identity.email[:254] if identity.email else None
        user.last_login_at = datetime.now(UTC)
        return ResolvedAccount(user.id, tenant, membership.role, "matched")

    if not identity.email or identity.email_verified is not True:
        raise SsoRefused("the provider did not confirm a verified e-mail address")
    try:
        address = normalize_login_email(identity.email)
        domain = _ascii_domain(address.rpartition("@")[2])
    except (DomainError, UnicodeError):
        raise SsoRefused("the provider sent an invalid e-mail address") from None
    if domain not in provider.allowed_domains:
        raise SsoRefused("e-mail addresses of this domain may not sign in through this provider")

    user = (await session.execute(select(User).where(User.email == address))).scalar_one_or_none()
    now = datetime.now(UTC)
    if user is not None:
        membership = await _active_membership(session, tenant.id, user.id)
        if not user.is_active or membership is None:
            raise SsoRefused("this account has no access to this company")
        other = (
            await session.execute(
                select(UserIdentity.id).where(
                    UserIdentity.user_id == user.id, UserIdentity.provider_id == provider.id
                )
            )
        ).first()
        if other is not None:
            raise SsoRefused("this user is already linked to another account at this provider")
        outcome, role = "linked", membership.role
    else:
        local = address.partition("@")[0]
        user = User(
            email=address,
            name=(identity.name or "").strip()[:120] or local[:120],
            password_hash=None,
        )
        session.add(user)
        await session.flush()
        session.add(Membership(user_id=user.id, tenant_id=tenant.id, role=SSO_DEFAULT_ROLE))
        outcome, role = "created", SSO_DEFAULT_ROLE
    session.add(
        UserIdentity(
            user_id=user.id,
            provider_id=provider.id,
            issuer=identity.issuer,
            subject=identity.subject,
            email=address,
        )
    )
    user.last_login_at = now
    await session.flush()
    _audit(
        session,
        action=f"sso.identity.{outcome}",
        tenant_id=tenant.id,
        actor=user.id,
        target=str(provider.id),
        detail={"subject": identity.subject},
    )
    return ResolvedAccount(user.id, tenant, role, outcome)
