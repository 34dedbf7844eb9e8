"""Per-tenant data keys: each tenant's sensitive fields are encrypted with its own key, which is
stored wrapped (encrypted) by the master key. A blind index — an HMAC of the normalised value under
a key derived from the data key — lets a field be found by exact value without being decrypted.

Losing one tenant's data key exposes only that tenant; rotating the master key means re-wrapping
the data keys, not re-encrypting the data.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import Database
from crm_core.security.crypto import NONCE, VERSION, DecryptionError, MasterKey
from crm_core.tenants.models import Tenant

BLIND_INDEX_BYTES = 16


@dataclass(frozen=True, slots=True)
class TenantCipher:
    tenant_id: uuid.UUID
    _aead: AESGCM
    _index_key: bytes

    def _ad(self, field: str) -> bytes:
        # Bound to tenant and field: a value copied to another tenant or column will not decrypt.
        return f"{self.tenant_id}:{field}".encode()

    def encrypt(self, value: str, *, field: str) -> bytes:
        nonce = os.urandom(NONCE)
        return VERSION + nonce + self._aead.encrypt(nonce, value.encode(), self._ad(field))

    def decrypt(self, blob: bytes, *, field: str) -> str:
        try:
            return self._aead.decrypt(
                blob[1 : 1 + NONCE], blob[1 + NONCE :], self._ad(field)
            ).decode()
        except InvalidTag as exc:
            raise DecryptionError(f"cannot decrypt {field}") from exc

    def blind_index(self, value: str, *, field: str) -> bytes:
        normalised = "".join(value.split()).upper()
        digest = hmac.new(self._index_key, f"{field}\x00{normalised}".encode(), hashlib.sha256)
        return digest.digest()[:BLIND_INDEX_BYTES]

    def mac(self, message: bytes, *, purpose: str) -> bytes:
        """HMAC-SHA256 of ``message`` under a key derived from the data key for ``purpose`` (signed
        links): one purpose's MAC is never valid for another, nor for another tenant."""
        key = hmac.new(self._index_key, f"mac\x00{purpose}".encode(), hashlib.sha256).digest()
        return hmac.new(key, message, hashlib.sha256).digest()


def cipher_from_wrapped(master: MasterKey, tenant_id: uuid.UUID, wrapped: bytes) -> TenantCipher:
    """The cipher of a wrapped data key (also one kept in a backup, after its tenant is gone)."""
    data_key = master.decrypt(wrapped, purpose=f"tenant-data-key:{tenant_id}")
    return TenantCipher(
        tenant_id=tenant_id,
        _aead=AESGCM(data_key),
        _index_key=hmac.new(data_key, b"blind-index", hashlib.sha256).digest(),
    )


class TenantKeys:
    """Unwrapped data keys, cached per process (they never change once made)."""

    def __init__(self, master: MasterKey) -> None:
        self._master = master
        self._cache: dict[uuid.UUID, TenantCipher] = {}

    async def cipher(self, db: Database, tenant_id: uuid.UUID) -> TenantCipher:
        cached = self._cache.get(tenant_id)
        if cached is not None:
            return cached
        async with db.core_transaction() as session:
            wrapped = await self._wrapped_key(session, tenant_id)
        cipher = cipher_from_wrapped(self._master, tenant_id, wrapped)
        self._cache[tenant_id] = cipher
        return cipher

    async def _wrapped_key(self, session: AsyncSession, tenant_id: uuid.UUID) -> bytes:
        """The tenant's wrapped key, made on first use under a row lock (two processes racing
        to make it would otherwise encrypt with different keys)."""
        stmt = select(Tenant).where(Tenant.id == tenant_id).with_for_update()
        tenant = (await session.execute(stmt)).scalar_one()
        if tenant.data_key_wrapped is None:
            key = AESGCM.generate_key(bit_length=256)
            tenant.data_key_wrapped = self._master.encrypt(
                key, purpose=f"tenant-data-key:{tenant_id}"
            )
        return tenant.data_key_wrapped
