"""Password change and reset: a signed-in user's change of password (checked and throttled like
sign-in), and the single-use reset link for a forgotten one. Both store the new hash, void any
open reset tokens and end the user's other sign-ins (their refresh tokens, ``identity.refresh``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, Unauthenticated
from crm_core.identity import passwords, refresh
from crm_core.identity.service import (
    SIGN_IN_AGAIN,
    SignIn,
    _now,
    _throttled,
    normalize_login_email,
    start_session,
)
from crm_core.identity.throttle import Throttle
from crm_core.identity.tokens import TokenService
from crm_core.mail.outbox import queue_mail
from crm_core.settings import AuthSettings
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Membership, Role, Tenant, TenantStatus, User

log = logging.getLogger(__name__)

# Logged (with the link) only when there is no company to send the mail from.
RESET_MARKER = "PASSWORD-RESET-LINK"


async def change_password(
    db: Database,
    tokens: TokenService,
    throttle: Throttle,
    *,
    user_id: uuid.UUID,
    tenant: TenantRef,
    role: Role,
    current_password: str,
    new_password: str,
    ip: str | None = None,
    client_info: str | None = None,
) -> SignIn:
    """Check the current password (throttled like sign-in), store the new one, end every other
    sign-in of the user, and return a fresh session in the current company."""
    passwords.check_policy(new_password, "new_password")
    if new_password == current_password:
        raise DomainError.one("new_password", ErrorCode.INVALID, "choose a new password")
    async with db.core_session() as session:
        user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(SIGN_IN_AGAIN)
    buckets = throttle.login_buckets(user.email, ip)
    if await throttle.wait_seconds(buckets) > 0:
        raise _throttled()
    if len(current_password) > passwords.MAX_LENGTH or not await passwords.verify_password(
        user.password_hash, current_password
    ):
        await throttle.failed(buckets)
        raise DomainError.one("current_password", ErrorCode.INVALID, "not your current password")
    await throttle.clear(buckets[0])
    hashed = await passwords.hash_password(new_password, "new_password")
    now = _now()
    async with db.core_transaction() as session:
        row = await session.get(User, user_id, with_for_update=True)
        assert row is not None
        row.password_hash = hashed
        revoked = await refresh.revoke_user(session, user_id, now)
        await passwords.void_reset_tokens(session, user_id, now)
    log.info("password changed for user %s; %d refresh tokens revoked", user_id, revoked)
    return await start_session(
        db, tokens, user_id=user_id, tenant=tenant, role=role, client_info=client_info
    )


async def request_password_reset(
    db: Database, throttle: Throttle, settings: AuthSettings, *, email: str, ip: str | None = None
) -> None:
    """Send a single-use reset link to the address if it has an active account. The caller answers
    the same whatever happens here; the work is the same two statements with or without account.

    The link goes out by mail (``crm_core.mail``), queued in the token's transaction; only a user
    with no active company gets it logged at WARNING under ``RESET_MARKER`` instead."""
    try:
        address = normalize_login_email(email)
    except DomainError:
        return
    buckets = throttle.reset_buckets(address, ip)
    if await throttle.wait_seconds(buckets) > 0:
        log.info("password reset request held back by the throttle")
        return
    await throttle.failed(buckets)  # every request counts: nobody can bomb a mailbox
    raw, hashed = passwords.new_reset_token()
    now = _now()
    expires = now + timedelta(seconds=settings.password_reset_ttl_seconds)
    link = f"{settings.password_reset_url}#token={raw}"
    async with db.core_transaction() as session:
        created = await passwords.store_reset_token(
            session, email=address, hashed=hashed, now=now, expires=expires
        )
        # The mail is queued in the same transaction as the token: both or neither.
        mailed = created and await _queue_reset_mail(
            session, address, link, settings.password_reset_ttl_seconds
        )
    if created and not mailed:
        # No company to send from (a user with no active membership): the operator's way out.
        log.warning("%s for %s (no company to mail from): %s", RESET_MARKER, address, link)


async def _queue_reset_mail(
    session: AsyncSession, address: str, link: str, ttl_seconds: int
) -> bool:
    """Queue the reset mail in the outbox of the user's most recently joined active company (its
    sender, branding and language). Transactional: sent even to an address that opted out."""
    row = (
        await session.execute(
            select(Tenant.id, Tenant.slug, Tenant.locale)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .join(User, User.id == Membership.user_id)
            .where(
                User.email == address,
                User.is_active.is_(True),
                Membership.is_active.is_(True),
                Tenant.status == TenantStatus.active,
                Tenant.provisioned_at.is_not(None),
            )
            .order_by(Membership.created_at.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return False
    await queue_mail(
        session,
        TenantRef(id=row.id, slug=row.slug),
        event_key=f"password.reset:{uuid.uuid4()}",  # every request is its own event
        to=address,
        template="password_reset",
        context={"link": link, "minutes": ttl_seconds // 60},
        locale=row.locale,
        transactional=True,
    )
    return True


async def reset_password(
    db: Database, throttle: Throttle, *, token: str, new_password: str
) -> None:
    """Set a new password with a reset link's token (once, before it expires); every sign-in of
    the user ends, and the e-mail's sign-in throttle is cleared."""
    invalid = DomainError.one("token", ErrorCode.INVALID, "this link is invalid, used or expired")
    passwords.check_policy(new_password, "new_password")
    hashed = passwords.reset_digest(token)
    if hashed is None:
        raise invalid
    async with db.core_session() as session:
        found = await passwords.find_reset_token(session, hashed)
    if found is None or not passwords.reset_usable(found, _now()):
        raise invalid  # checked before hashing, so junk tokens cost no argon2 time
    new_hash = await passwords.hash_password(new_password, "new_password")
    now = _now()
    async with db.core_transaction() as session:
        row = await passwords.find_reset_token(session, hashed, lock=True)
        user = await session.get(User, found.user_id, with_for_update=True)
        if not passwords.reset_usable(row, now) or user is None or not user.is_active:
            raise invalid
        user.password_hash = new_hash
        await passwords.void_reset_tokens(session, user.id, now)
        await refresh.revoke_user(session, user.id, now)
        email = user.email
    await throttle.clear(throttle.login_buckets(email, None)[0])
    log.info("password reset for user %s", found.user_id)
