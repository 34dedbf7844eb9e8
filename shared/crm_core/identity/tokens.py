"""Access tokens: short-lived JWTs signed with Ed25519 keys from the key store (joserfc).

``joserfc.jwt.decode`` checks only the signature. Before it, the header is checked here (the one
algorithm we sign with, the access-token type, a key id the store knows and may still verify
with); after it, every claim that matters (``iss``, ``aud``, ``exp``, ``nbf``, ``iat``, ``sub``,
``tid``, ``role``, ``typ``, ``jti``) is validated by a claims registry with a small leeway, and a
token claiming a longer life than we ever issue is refused.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from crm_core.errors import Unauthenticated
from crm_core.identity.keys import ALGORITHM, KeyStore
from crm_core.settings import AuthSettings
from crm_core.tenants.models import Role

HEADER_TYPE = "at+jwt"  # RFC 9068: an id token or other JWT of ours cannot pass as an access token
TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
MAX_TOKEN_LENGTH = 4_096  # ours are about 500 bytes; bound the parsing work of junk


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role
    token_id: str
    issued_at: float  # with milliseconds (RFC 7519 NumericDate may be fractional)
    expires_at: int
    # Set only on an API client's token (``issue_client``): the client's public id and the
    # scopes this token was granted. ``user_id`` is then the client's record id.
    client_id: str | None = None
    scopes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: int
    token_id: str


class TokenService:
    def __init__(self, settings: AuthSettings, keys: KeyStore) -> None:
        self._settings = settings
        self._keys = keys
        self._registry = jwt.JWTClaimsRegistry(
            leeway=settings.leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.audience},
            exp={"essential": True},
            nbf={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            tid={"essential": True},
            role={"essential": True, "values": [r.value for r in Role]},
            typ={"essential": True, "value": TOKEN_TYPE},
            jti={"essential": True},
        )

    @property
    def settings(self) -> AuthSettings:
        return self._settings

    @property
    def keys(self) -> KeyStore:
        return self._keys

    async def issue(self, *, user_id: uuid.UUID, tenant_id: uuid.UUID, role: str) -> IssuedToken:
        return await self._sign(subject=user_id, tenant_id=tenant_id, role=role, extra={})

    async def issue_client(
        self,
        *,
        client_record_id: uuid.UUID,
        client_id: str,
        tenant_id: uuid.UUID,
        role: str,
        scopes: Collection[str],
    ) -> IssuedToken:
        """An API client's access token (client-credentials grant): ``cid`` marks it as a
        client's, ``scope`` (RFC 8693 §4.2 form, space-separated) is what it may do."""
        extra = {"cid": client_id, "scope": " ".join(sorted(scopes))}
        return await self._sign(
            subject=client_record_id, tenant_id=tenant_id, role=role, extra=extra
        )

    async def _sign(
        self, *, subject: uuid.UUID, tenant_id: uuid.UUID, role: str, extra: dict[str, str]
    ) -> IssuedToken:
        key = await self._keys.signing_key()
        issued = round(time.time(), 3)
        now = int(issued)
        expires = now + self._settings.access_token_ttl_seconds
        token_id = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "sub": str(subject),
            "tid": str(tenant_id),
            "role": role,
            "typ": TOKEN_TYPE,
            **extra,
            "iat": issued,
            "nbf": now,
            "exp": expires,
            "jti": token_id,
        }
        header = {"alg": ALGORITHM, "kid": key.kid, "typ": HEADER_TYPE}
        token = jwt.encode(header, claims, key, algorithms=[ALGORITHM])
        return IssuedToken(token, expires, token_id)

    async def verify(self, token: str) -> AccessClaims:
        """The validated claims; ``Unauthenticated`` for anything else, with one message."""
        try:
            return await self._verify(token)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated("invalid or expired token") from exc

    async def _verify(self, token: str) -> AccessClaims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError("token too long")
        header = jws.extract_compact(token.encode("ascii")).headers()
        if header.get("alg") != ALGORITHM or header.get("typ") != HEADER_TYPE:
            raise ValueError("wrong algorithm or token type")
        kid = header.get("kid")
        key = await self._keys.verify_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise ValueError("unknown or retired key")
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[ALGORITHM]).claims
        self._registry.validate(claims)
        issued, expires = claims["iat"], claims["exp"]
        if expires - issued > self._settings.access_token_ttl_seconds:
            raise ValueError("lifetime longer than we issue")
        # A client's token carries both ``cid`` and ``scope``; a user's carries neither.
        client_id, scope = claims.get("cid"), claims.get("scope")
        if (client_id is None) != (scope is None):
            raise ValueError("half a client token")
        if client_id is not None and not (isinstance(client_id, str) and isinstance(scope, str)):
            raise ValueError("malformed client claims")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            tenant_id=uuid.UUID(claims["tid"]),
            role=Role(claims["role"]),
            token_id=str(claims["jti"]),
            issued_at=float(issued),
            expires_at=int(expires),
            client_id=client_id,
            scopes=frozenset(scope.split()) if isinstance(scope, str) else None,
        )

    async def jwks(self) -> dict[str, Any]:
        return await self._keys.jwks()
