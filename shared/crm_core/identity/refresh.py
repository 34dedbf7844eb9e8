"""Refresh tokens: opaque, stored hashed, rotated on every use, revoked by family on reuse.

A token is 256 random bits; only its SHA-256 is stored, so a leak of the table gives nobody a
session (a fast hash is enough for a value that cannot be guessed). Every sign-in starts a
*family*; each use replaces the token with a successor in the same family. The rules:

- a token already used once, presented again, means someone holds a copy: the whole family is
  revoked, the successor issued to the first presenter included;
- rotation locks the presented row (``SELECT … FOR UPDATE``) in the transaction that marks it used
  and inserts the successor, so two concurrent uses of one token cannot both succeed: the second
  waits, then sees it used;
- a family ends absolutely ``refresh_family_ttl_seconds`` after the sign-in, however often it was
  refreshed; each token also expires on its own after ``refresh_token_ttl_seconds``.

Repository functions here take the session and never commit; ``identity.service`` runs them.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import TenantSuspended
from crm_core.settings import AuthSettings
from crm_core.tenants.models import Membership, RefreshToken, Tenant, TenantStatus, User

log = logging.getLogger(__name__)

PREFIX = "crm_rt_"  # recognisable by secret scanners and in support tickets
_RAW_LENGTH = len(PREFIX) + 43  # token_urlsafe(32) is 43 characters


def new_secret() -> tuple[str, bytes]:
    raw = PREFIX + secrets.token_urlsafe(32)
    return raw, hashlib.sha256(raw.encode()).digest()


def digest(raw: str) -> bytes | None:
    """The stored form of a presented token; None when it cannot be one of ours (no query then)."""
    raw = raw.strip()
    if len(raw) != _RAW_LENGTH or not raw.startswith(PREFIX) or not raw.isascii():
        return None
    return hashlib.sha256(raw.encode()).digest()


class State(enum.Enum):
    valid = "valid"
    used = "used"  # rotated already: presenting it again is reuse
    revoked = "revoked"
    expired = "expired"


def state_of(row: RefreshToken, now: datetime) -> State:
    if row.revoked_at is not None:
        return State.revoked
    if row.used_at is not None:
        return State.used
    if row.expires_at <= now:
        return State.expired
    return State.valid


@dataclass(frozen=True, slots=True)
class Family:
    id: uuid.UUID
    started_at: datetime


async def add(
    session: AsyncSession,
    settings: AuthSettings,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    now: datetime,
    client_info: str | None,
    family: Family | None = None,
) -> tuple[str, RefreshToken]:
    """A new token (the first of a new family when ``family`` is None). Returns (raw, row)."""
    family = family or Family(uuid.uuid4(), now)
    ends = family.started_at + timedelta(seconds=settings.refresh_family_ttl_seconds)
    raw, hashed = new_secret()
    row = RefreshToken(
        id=uuid.uuid4(),
        user_id=user_id,
        tenant_id=tenant_id,
        family_id=family.id,
        token_hash=hashed,
        issued_at=now,
        expires_at=min(now + timedelta(seconds=settings.refresh_token_ttl_seconds), ends),
        client_info=client_info[:200] if client_info else None,
    )
    session.add(row)
    await session.flush()
    return raw, row


async def lock_presented(session: AsyncSession, hashed: bytes) -> RefreshToken | None:
    """The presented token's row, locked until the transaction ends (rotation is serialised)."""
    stmt = select(RefreshToken).where(RefreshToken.token_hash == hashed).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_by_hash(session: AsyncSession, hashed: bytes) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == hashed)
    return (await session.execute(stmt)).scalar_one_or_none()


async def family_of(session: AsyncSession, row: RefreshToken) -> Family:
    started = (
        await session.execute(
            select(func.min(RefreshToken.issued_at)).where(RefreshToken.family_id == row.family_id)
        )
    ).scalar_one()
    return Family(row.family_id, started or row.issued_at)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.id)
    )
    return len(result.all())


async def revoke_user(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """Every live refresh token of the user, in every company (logout everywhere, new password),
    and every access token issued until now."""
    # Tokens carry ``iat`` to the millisecond, so the fresh session a password change returns
    # right after this instant stays valid while every earlier token dies.
    await session.execute(update(User).where(User.id == user_id).values(tokens_valid_after=now))
    result = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(revoked_at=now)
        .returning(RefreshToken.id)
    )
    return len(result.all())


async def live_membership(
    session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID
) -> tuple[Membership, Tenant] | None:
    """The membership a token is bound to, while user, membership and company still exist
    (a suspended company is returned: the caller refuses it without ending the sign-in)."""
    row = (
        await session.execute(
            select(Membership, Tenant)
            .join(Tenant, Tenant.id == Membership.tenant_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.user_id == user_id,
                Membership.tenant_id == tenant_id,
                Membership.is_active.is_(True),
                User.is_active.is_(True),
                Tenant.provisioned_at.is_not(None),
                Tenant.status != TenantStatus.deleted,
            )
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True, slots=True)
class Rotated:
    raw: str
    successor: RefreshToken
    membership: Membership
    tenant: Tenant


async def rotate(
    session: AsyncSession,
    settings: AuthSettings,
    hashed: bytes,
    *,
    now: datetime,
    client_info: str | None,
) -> Rotated | None:
    """Replace the presented token by a successor; None when it must be refused.

    None can come with changes the caller must commit (a reused token's family revoked, the
    family of a member who left ended). A suspended company raises ``TenantSuspended`` and
    changes nothing: the sign-in resumes when the company does."""
    row = await lock_presented(session, hashed)
    if row is None:
        return None
    state = state_of(row, now)
    if state is State.used:
        revoked = await revoke_family(session, row.family_id, now)
        log.warning(
            "refresh token reused: family %s of user %s revoked (%d tokens)",
            row.family_id,
            row.user_id,
            revoked,
        )
        return None
    if state is not State.valid:
        return None
    found = await live_membership(session, row.user_id, row.tenant_id)
    if found is None:
        await revoke_family(session, row.family_id, now)
        return None
    membership, tenant = found
    if tenant.status is not TenantStatus.active:
        raise TenantSuspended()
    raw, successor = await add(
        session,
        settings,
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        now=now,
        client_info=client_info,
        family=await family_of(session, row),
    )
    row.used_at, row.replaced_by_id = now, successor.id
    return Rotated(raw, successor, membership, tenant)
