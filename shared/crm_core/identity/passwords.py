"""Password hashing with argon2id, off the event loop.

Parameters are at least OWASP's minimum for argon2id (m=19 MiB, t=2, p=1); we use argon2-cffi's
RFC 9106 low-memory profile (m=64 MiB, t=3, p=4), above it. Lengths are checked before hashing so a
megabyte "password" cannot be used to burn CPU.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from crm_core.errors import DomainError, ErrorCode

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
# Verified against when the user does not exist, so both answers take about the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-timing")


def check_policy(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError.one(field, ErrorCode.INVALID, f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise DomainError.one(field, ErrorCode.TOO_LONG, f"use at most {MAX_LENGTH} characters")


async def hash_password(password: str) -> str:
    check_policy(password)
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """False for a wrong password, an unknown user (``stored`` None) or an over-long input."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]  # still spend the time: the answer must not tell
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
