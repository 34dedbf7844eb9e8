"""SSO account resolution: who an OpenID Connect id token signs in to a tenant, matched on
(issuer, subject), linked by a verified e-mail, or created.

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

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.models import SsoProvider, UserIdentity
from crm_core.identity.service import normalize_login_email
from crm_core.identity.sso_providers import _ascii_domain, _audit, _live
from crm_core.tenants.models import Membership, Role, Tenant, User

SSO_DEFAULT_ROLE = Role.viewer


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
