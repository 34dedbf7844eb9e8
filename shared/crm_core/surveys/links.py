"""The signed, expiring, single-use link of a survey invitation.

A token is ``base64url(tenant id ‖ send id ‖ expiry ‖ MAC)``: 16 + 16 + 4 bytes of payload and the
first 16 bytes of an HMAC-SHA256 under a key derived from the *tenant's* data key
(``TenantCipher.mac``, purpose ``survey-link``). So

* the tenant is read from the token only to find the key that must verify it: a token whose tenant
  id was changed to another tenant's fails that tenant's MAC, and can never touch its rows;
* the expiry is signed (and also stored on the send: both must agree);
* the token is deterministic for a send, so the reminder carries the same link without the token
  ever being stored: the send keeps only ``sha256(token)`` (``token_hash``), which the page checks
  as well, and a changed expiry (a re-issued link) retires the old one;
* single use is the send's state: once a response exists the link answers "already answered".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from crm_core.security.tenant_keys import TenantCipher

PURPOSE = "survey-link"
MAC_BYTES = 16
_PAYLOAD = struct.Struct(">16s16sI")
TOKEN_BYTES = _PAYLOAD.size + MAC_BYTES
# base64url of 52 bytes without padding: 70 characters; anything else is not one of ours.
TOKEN_LENGTH = 70


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a token says, before (``verify``) anyone trusts it."""

    tenant_id: uuid.UUID
    send_id: uuid.UUID
    expires_at: datetime
    payload: bytes
    mac: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(cipher: TenantCipher, send_id: uuid.UUID, expires_at: datetime) -> str:
    payload = _PAYLOAD.pack(cipher.tenant_id.bytes, send_id.bytes, int(expires_at.timestamp()))
    return _b64(payload + cipher.mac(payload, purpose=PURPOSE)[:MAC_BYTES])


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def parse(token: str) -> LinkClaims | None:
    """The claims of a well-formed token (not yet verified); None for anything malformed."""
    if len(token) != TOKEN_LENGTH or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != TOKEN_BYTES or _b64(raw) != token:  # one spelling per token
        return None
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    tenant, send, expires = _PAYLOAD.unpack(payload)
    return LinkClaims(
        tenant_id=uuid.UUID(bytes=tenant),
        send_id=uuid.UUID(bytes=send),
        expires_at=datetime.fromtimestamp(expires, UTC),
        payload=payload,
        mac=mac,
    )


def verify(cipher: TenantCipher, claims: LinkClaims) -> bool:
    """The MAC under the tenant's key (constant-time); the tenant must be the cipher's."""
    if claims.tenant_id != cipher.tenant_id:
        return False
    expected = cipher.mac(claims.payload, purpose=PURPOSE)[:MAC_BYTES]
    return hmac.compare_digest(expected, claims.mac)


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/{token}"


def token_hash_of_claims(claims: LinkClaims) -> bytes:
    """The stored hash of the token these claims were parsed from (its one spelling)."""
    return token_hash(_b64(claims.payload + claims.mac))
