"""The unsubscribe link of notification mails (``GET/POST /u/{token}``, RFC 8058 one-click).

A token is ``base64url(version ‖ tenant id ‖ address ‖ MAC)``: the address in UTF-8 and the first
16 bytes of an HMAC-SHA256 under a key derived from the *tenant's* data key
(``TenantCipher.mac``, purpose ``mail-unsubscribe``), as survey links are signed
(``crm_core.surveys.links``). So

* nobody can make a link for an address (or a tenant) they did not receive a mail for;
* the tenant id is read from the token only to pick the key that must verify it: a token whose
  tenant id was changed fails that tenant's MAC, and an opt-out always lands in the tenant whose
  key signed it;
* the link does not expire and needs no storage (a mail's footer must keep working for years;
  opting out again is harmless).

Transactional mails (password reset, invitations) carry no link: they are not notifications.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from dataclasses import dataclass

from crm_core.db.engine import Database
from crm_core.mail.models import SuppressionReason
from crm_core.mail.outbox import suppress
from crm_core.security.tenant_keys import TenantCipher, TenantKeys
from crm_core.tenancy import TenantRef
from crm_core.tenants.service import active_ref

PURPOSE = "mail-unsubscribe"
VERSION = b"\x01"
MAC_BYTES = 16
MAX_ADDRESS = 254
MAX_TOKEN = 4 * (1 + 16 + MAX_ADDRESS + MAC_BYTES) // 3 + 4


@dataclass(frozen=True, slots=True)
class Claims:
    tenant_id: uuid.UUID
    address: str
    payload: bytes
    mac: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(cipher: TenantCipher, address: str) -> str:
    payload = VERSION + cipher.tenant_id.bytes + address.encode()
    return _b64(payload + cipher.mac(payload, purpose=PURPOSE)[:MAC_BYTES])


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/{token}"


def parse(token: str) -> Claims | None:
    """The claims of a well-formed token (not yet verified); None for anything malformed."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 1 + 16 + 3 + MAC_BYTES or raw[:1] != VERSION or _b64(raw) != token:
        return None
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    try:
        address = payload[17:].decode()
    except UnicodeDecodeError:
        return None
    if "@" not in address or len(address) > MAX_ADDRESS:
        return None
    return Claims(uuid.UUID(bytes=payload[1:17]), address, payload, mac)


def verify(cipher: TenantCipher, claims: Claims) -> bool:
    if claims.tenant_id != cipher.tenant_id:
        return False
    expected = cipher.mac(claims.payload, purpose=PURPOSE)[:MAC_BYTES]
    return hmac.compare_digest(expected, claims.mac)


@dataclass(frozen=True, slots=True)
class Opened:
    tenant: TenantRef
    address: str


async def open_token(db: Database, keys: TenantKeys, token: str) -> Opened | None:
    """The tenant and address of a genuine token of an active tenant; None otherwise."""
    claims = parse(token)
    if claims is None:
        return None
    tenant = await active_ref(db, claims.tenant_id)
    if tenant is None:
        return None
    if not verify(await keys.cipher(db, tenant.id), claims):
        return None
    return Opened(tenant, claims.address)


async def opt_out(db: Database, opened: Opened) -> None:
    """Record the opt-out in the token's tenant (``outbox.suppress``): notifications stop."""
    async with db.tenant(opened.tenant).transaction() as session:
        await suppress(session, opened.address, SuppressionReason.opt_out, "unsubscribe link")


class Signer:
    """Makes a tenant's unsubscribe links (the sender holds one per mail)."""

    def __init__(self, cipher: TenantCipher, base_url: str) -> None:
        self._cipher = cipher
        self._base_url = base_url

    def link(self, address: str) -> str:
        return link(self._base_url, mint(self._cipher, address))
