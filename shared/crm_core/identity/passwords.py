"""Password hashing with argon2id, off the event loop; password-reset tokens.

Parameters are above OWASP's minimum for argon2id (m=19 MiB, t=2, p=1): argon2-cffi's RFC 9106
low-memory profile (m=64 MiB, t=3, p=4), about 125 ms a hash on the 2-core CI machine. Raising them
is a code change here; stored hashes made with older parameters are rehashed at the next sign-in.

Hashing runs on a small dedicated thread pool rather than the default executor: each hash holds
64 MiB, so the pool size bounds the memory a burst of sign-ins can take (queued work waits instead).
Lengths are checked before hashing so a megabyte "password" cannot be used to burn CPU.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import secrets
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import DateTime, LargeBinary, Uuid, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.models import PasswordResetToken
from crm_core.tenants.models import User

MIN_LENGTH = 10
MAX_LENGTH = 256
T = TypeVar("T")

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_stats_lock = threading.Lock()
_verifications = 0


def _executor() -> ThreadPoolExecutor:
    """Made on first use (nothing at import time), shared by every event loop of the process."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="argon2"
            )
        return _pool


@functools.cache
def _dummy_hash() -> str:
    # Verified against when there is no real hash (unknown user, SSO-only account), so those
    # answers cost the same argon2 time as a wrong password. Same parameters as real hashes.
    return _hasher.hash("not-a-real-password-just-timing")


def check_policy(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError.one(field, ErrorCode.INVALID, f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise DomainError.one(field, ErrorCode.TOO_LONG, f"use at most {MAX_LENGTH} characters")


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_executor(), fn, *args)


async def hash_password(password: str, field: str = "password") -> str:
    check_policy(password, field)
    return await _off_loop(_hasher.hash, password)


async def rehash(password: str) -> str:
    """A fresh hash of a password that has just verified: no policy check, since an account
    made under an older policy must not be refused at the moment its hash is upgraded."""
    return await _off_loop(_hasher.hash, password[:MAX_LENGTH])


def _verify(stored: str | None, password: str) -> bool:
    global _verifications
    with _stats_lock:
        _verifications += 1
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """False for a wrong password or no stored hash, after the same argon2 work either way.

    Callers refuse over-long input before calling (no account can have such a password)."""
    return await _off_loop(_verify, stored, password)


def verification_count() -> int:
    """argon2 verifications run by this process (a metric; tests use it to see the work was done)."""
    with _stats_lock:
        return _verifications


def needs_rehash(stored: str) -> bool:
    """True when the stored hash was made with other parameters than today's (or is unreadable)."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


# Reset tokens: 256 random bits in the link, only their SHA-256 stored; single use, short-lived.
RESET_PREFIX = "crm_pr_"


def new_reset_token() -> tuple[str, bytes]:
    raw = RESET_PREFIX + secrets.token_urlsafe(32)
    return raw, hashlib.sha256(raw.encode()).digest()


def reset_digest(raw: str) -> bytes | None:
    """The stored form of a presented reset token; None when it cannot be one of ours."""
    raw = raw.strip()
    if not raw.startswith(RESET_PREFIX) or len(raw) != len(RESET_PREFIX) + 43:
        return None
    return hashlib.sha256(raw.encode()).digest()


async def store_reset_token(
    session: AsyncSession, *, email: str, hashed: bytes, now: datetime, expires: datetime
) -> bool:
    """Void the account's earlier links and store this one, if an active account has that
    address. The same two statements run whether it has or not; True when one was stored."""
    account = select(User.id).where(User.email == email, User.is_active.is_(True))
    await session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id.in_(account.scalar_subquery()),
            PasswordResetToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    made = await session.execute(
        insert(PasswordResetToken)
        .from_select(
            ["id", "user_id", "token_hash", "created_at", "expires_at"],
            select(
                literal(uuid.uuid4(), Uuid),
                User.id,
                literal(hashed, LargeBinary),
                literal(now, DateTime(timezone=True)),
                literal(expires, DateTime(timezone=True)),
            ).where(User.email == email, User.is_active.is_(True)),
        )
        .returning(PasswordResetToken.user_id)
    )
    return made.first() is not None


async def find_reset_token(
    session: AsyncSession, hashed: bytes, *, lock: bool = False
) -> PasswordResetToken | None:
    stmt = select(PasswordResetToken).where(PasswordResetToken.token_hash == hashed)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def reset_usable(row: PasswordResetToken | None, now: datetime) -> bool:
    return row is not None and row.used_at is None and row.expires_at > now


async def void_reset_tokens(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
