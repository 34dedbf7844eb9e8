"""Token signing keys, kept in ``core.signing_keys`` so every gateway process shares them.

The newest key that is not retired signs. Rotation retires the old key without dropping it: it
keeps verifying (and stays in the JWKS) until ``verify_until``, by when every token it can have
signed has expired. The private part is stored encrypted with the master key, bound to the key id,
so a row's ciphertext cannot be swapped into another row.

Each process caches the keys and re-reads them every ``key_cache_seconds``, and at once (at most
once a second) when a token names a key id it has not seen: another process may have rotated.
Because a process may go on signing with a just-retired key until its next re-read, that interval
is part of the retired key's verify window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import OKPKey
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db import admin
from crm_core.db.engine import Database
from crm_core.identity.models import SigningKey
from crm_core.security.crypto import MasterKey
from crm_core.settings import AuthSettings

ALGORITHM = "Ed25519"  # RFC 9864 fully-specified name (replaces "EdDSA")
# An unknown key id makes a process re-read the keys at once, but such re-reads happen at most
# this often: a flood of tokens with made-up key ids must not become a flood of queries. (Counted
# from the last re-read *for an unknown kid*, so a routine re-read just before a rotation does not
# delay learning the new key.)
UNKNOWN_KID_RELOAD_SECONDS = 1.0
_LOCK = ("signing-keys", "rotation")


def _purpose(kid: str) -> str:
    return f"core.signing_keys.private_key:{kid}"


def _now() -> datetime:
    return datetime.now(UTC)


def verify_window(settings: AuthSettings) -> timedelta:
    """How long a retired key keeps verifying: a process may sign with it until its next re-read,
    and that token lives for the access-token lifetime, plus the clock leeway."""
    return timedelta(
        seconds=settings.key_cache_seconds
        + settings.access_token_ttl_seconds
        + settings.leeway_seconds
    )


def _live(now: datetime) -> Any:
    return or_(SigningKey.verify_until.is_(None), SigningKey.verify_until > now)


def _new_key(master: MasterKey) -> SigningKey:
    key = OKPKey.generate_key("Ed25519", auto_kid=True)  # kid = RFC 7638 thumbprint
    kid = str(key.kid)
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        private_key_encrypted=master.encrypt(key.as_pem(private=True), purpose=_purpose(kid)),
        public_jwk=dict(key.as_dict(private=False)),
    )


async def _active(session: AsyncSession) -> Sequence[SigningKey]:
    stmt = (
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
    )
    return (await session.execute(stmt)).scalars().all()


async def ensure_signing_key(db: Database, master: MasterKey) -> str:
    """The kid of the active key, created on first start. Safe when several processes start at
    once: creation happens under a transaction-scoped advisory lock."""
    async with db.core_transaction() as session:
        await admin.advisory_xact_lock(session, admin.lock_key(*_LOCK))
        active = await _active(session)
        if active:
            return active[0].kid
        row = _new_key(master)
        session.add(row)
        return row.kid


@dataclass(frozen=True, slots=True)
class Rotation:
    new_kid: str
    retired: list[str]
    verify_until: datetime
    pruned: int


async def rotate(
    db: Database, master: MasterKey, settings: AuthSettings, *, revoke_old: bool = False
) -> Rotation:
    """A new signing key; the old ones turn verify-only until their tokens have expired.

    ``revoke_old`` (for a leaked key) ends their verification at once instead: every token they
    signed is refused as soon as each process re-reads the keys. Keys past their window are
    deleted, destroying their private parts."""
    now = _now()
    until = now if revoke_old else now + verify_window(settings)
    async with db.core_transaction() as session:
        await admin.advisory_xact_lock(session, admin.lock_key(*_LOCK))
        old = await _active(session)
        for row in old:
            row.retired_at, row.verify_until = now, until
        if revoke_old:
            await session.execute(
                update(SigningKey)
                .where(SigningKey.verify_until > now)
                .values(verify_until=now, retired_at=now)
            )
        new = _new_key(master)
        session.add(new)
        await session.flush()
        pruned = await session.execute(
            delete(SigningKey).where(SigningKey.verify_until < now).returning(SigningKey.kid)
        )
        return Rotation(new.kid, [r.kid for r in old], until, len(pruned.all()))


async def list_keys(db: Database) -> Sequence[SigningKey]:
    async with db.core_session() as session:
        stmt = select(SigningKey).order_by(SigningKey.created_at.desc(), SigningKey.kid)
        return (await session.execute(stmt)).scalars().all()


@dataclass(frozen=True, slots=True)
class _VerifyKey:
    key: OKPKey
    verify_until: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.verify_until is None or self.verify_until > now


@dataclass(slots=True)
class _Snapshot:
    signing: OKPKey | None = None
    verify: dict[str, _VerifyKey] = field(default_factory=dict)
    loaded_at: float = float("-inf")


class KeyStore:
    """One per process: signs with the active key, verifies with any key still in its window."""

    def __init__(self, db: Database, master: MasterKey, settings: AuthSettings) -> None:
        self._db = db
        self._master = master
        self._settings = settings
        self._snapshot = _Snapshot()
        self._lock = asyncio.Lock()
        self._unknown_reload_at = float("-inf")

    async def refresh(self) -> None:
        """Re-read the keys now (the first call creates the first key if there is none)."""
        async with self._lock:
            await self._reload()

    async def _reload(self) -> None:
        now = _now()
        async with self._db.core_session() as session:
            rows = (
                (
                    await session.execute(
                        select(SigningKey)
                        .where(_live(now))
                        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
                    )
                )
                .scalars()
                .all()
            )
        active = [r for r in rows if r.retired_at is None]
        if not active:
            await ensure_signing_key(self._db, self._master)
            await self._reload()
            return
        newest = active[0]
        previous = self._snapshot.signing
        if previous is not None and previous.kid == newest.kid:
            signing = previous  # already decrypted
        else:
            pem = self._master.decrypt(newest.private_key_encrypted, purpose=_purpose(newest.kid))
            signing = OKPKey.import_key(pem)
            signing.ensure_kid()
            if signing.kid != newest.kid:
                raise RuntimeError(f"signing key {newest.kid} does not match its stored id")
        verify = {
            r.kid: _VerifyKey(OKPKey.import_key(dict(r.public_jwk)), r.verify_until) for r in rows
        }
        self._snapshot = _Snapshot(signing, verify, time.monotonic())

    async def _fresh(self) -> _Snapshot:
        """The cached snapshot, re-read first when older than the cache interval. Concurrent
        callers share one re-read."""
        limit = self._settings.key_cache_seconds
        if time.monotonic() - self._snapshot.loaded_at > limit:
            async with self._lock:
                if time.monotonic() - self._snapshot.loaded_at > limit:
                    await self._reload()
        return self._snapshot

    async def signing_key(self) -> OKPKey:
        snapshot = await self._fresh()
        assert snapshot.signing is not None
        return snapshot.signing

    async def verify_key(self, kid: str) -> OKPKey | None:
        """The key named by a token's ``kid``, if it may still verify; None otherwise."""
        snapshot = await self._fresh()
        started = time.monotonic()
        if kid not in snapshot.verify and started - self._unknown_reload_at > (
            UNKNOWN_KID_RELOAD_SECONDS
        ):
            self._unknown_reload_at = started
            async with self._lock:
                if kid not in self._snapshot.verify:  # unless a re-read just brought it
                    await self._reload()
            snapshot = self._snapshot
        found = snapshot.verify.get(kid)
        if found is None or not found.usable(_now()):
            return None
        return found.key

    async def jwks(self) -> dict[str, Any]:
        """The public keys that may still verify tokens (RFC 7517 key set)."""
        snapshot = await self._fresh()
        now = _now()
        keys = [
            {**v.key.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}
            for kid, v in snapshot.verify.items()
            if v.usable(now)
        ]
        return {"keys": keys}
