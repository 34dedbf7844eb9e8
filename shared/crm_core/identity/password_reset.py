"""Password change and reset: a signed-in user's change of password (checked and throttled like
sign-in), and the single-use reset link for a forgotten one. Both store the new hash, void any
open reset tokens and end the user's other sign-ins (their refresh tokens, ``identity.refresh``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

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
from crm_core.settings import AuthSettings
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Role, User

log = logging.getLogger(__name__)

RESET_MARKER = "PASSWORD-RESET-LINK"  # grep for it until mails go through the outbox


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

    Until the notification outbox exists the link is logged at WARNING under ``RESET_MARKER``;
    the token appears in no other log."""
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
    async with db.core_transaction() as session:
        created = await passwords.store_reset_token(
            session, email=address, hashed=hashed, now=now, expires=expires
        )
    if created:
        link = f"{settings.password_reset_url}#token={raw}"
        log.warning("%s for %s (no mail outbox yet): %s", RESET_MARKER, address, link)


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
