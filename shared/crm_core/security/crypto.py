"""Envelope encryption with AES-256-GCM (the ``cryptography`` package).

A master key from settings (``CRM_SECURITY__MASTER_KEY``, 32 bytes base64) encrypts small secrets
the platform keeps (signing keys, SSO client secrets) and wraps per-tenant data keys. Every
ciphertext is bound to a purpose string (associated data), so a value encrypted for one purpose
cannot be swapped into another column and decrypt.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crm_core.settings import Settings

VERSION = b"\x01"
NONCE = 12


class DecryptionError(Exception):
    """Wrong key, wrong purpose or tampered data."""


class MasterKey:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, *, purpose: str) -> bytes:
        nonce = os.urandom(NONCE)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def decrypt(self, blob: bytes, *, purpose: str) -> bytes:
        if blob[:1] != VERSION or len(blob) < 1 + NONCE + 16:
            raise DecryptionError("unknown ciphertext format")
        try:
            return self._aead.decrypt(blob[1 : 1 + NONCE], blob[1 + NONCE :], purpose.encode())
        except InvalidTag as exc:
            raise DecryptionError("cannot decrypt: wrong key, purpose or data") from exc


def load_master_key(settings: Settings) -> MasterKey:
    """From settings; outside production, generated once under the data dir when unset."""
    configured = settings.security.master_key
    if configured is not None:
        return MasterKey(base64.b64decode(configured.get_secret_value()))
    if settings.is_production:
        raise RuntimeError("CRM_SECURITY__MASTER_KEY must be set in production")
    path = Path(settings.data_dir) / "keys" / "master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64encode(AESGCM.generate_key(bit_length=256)))
        path.chmod(0o600)
    return MasterKey(base64.b64decode(path.read_bytes()))
