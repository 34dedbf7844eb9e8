"""Access tokens: short-lived JWTs signed with an Ed25519 key (joserfc, authlib's JOSE library).

``joserfc.jwt.decode`` checks only the signature; every claim that matters (``exp``, ``nbf``,
``iss``, ``aud``, token type) is then validated by a claims registry with a bounded leeway.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from crm_core.errors import Unauthenticated
from crm_core.settings import AuthSettings

ALGORITHM = "Ed25519"  # RFC 9864 fully-specified name (replaces "EdDSA")
TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    token_id: str
    expires_at: int


class TokenService:
    def __init__(self, settings: AuthSettings, key: OKPKey) -> None:
        self._settings = settings
        self._key = key
        self._registry = jwt.JWTClaimsRegistry(
            leeway=settings.leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.audience},
            exp={"essential": True},
            nbf={"essential": True},
            sub={"essential": True},
            tid={"essential": True},
            typ={"essential": True, "value": TOKEN_TYPE},
        )

    @property
    def key(self) -> OKPKey:
        return self._key

    def issue(self, *, user_id: uuid.UUID, tenant_id: uuid.UUID, role: str) -> tuple[str, int]:
        now = int(time.time())
        expires = now + self._settings.access_token_ttl_seconds
        claims = {
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "sub": str(user_id),
            "tid": str(tenant_id),
            "role": role,
            "typ": TOKEN_TYPE,
            "iat": now,
            "nbf": now,
            "exp": expires,
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": ALGORITHM, "kid": self._key.kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM]), expires

    def verify(self, token: str) -> AccessClaims:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            self._registry.validate(decoded.claims)
            claims = decoded.claims
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                tenant_id=uuid.UUID(claims["tid"]),
                role=str(claims.get("role", "viewer")),
                token_id=str(claims.get("jti", "")),
                expires_at=int(claims["exp"]),
            )
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated("invalid or expired token") from exc


def load_or_create_key(settings: AuthSettings, data_dir: Path) -> OKPKey:
    """The signing key from settings, else one generated once and kept under the data dir."""
    if settings.private_key_pem is not None:
        pem = settings.private_key_pem.get_secret_value()
    else:
        path = data_dir / "keys" / "token-signing.pem"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            generated = OKPKey.generate_key("Ed25519", auto_kid=True)
            path.write_bytes(generated.as_pem(private=True))
            path.chmod(0o600)
        pem = path.read_text()
    key = OKPKey.import_key(pem)
    key.ensure_kid()
    return key


def generate_private_pem() -> str:
    return OKPKey.generate_key("Ed25519").as_pem(private=True).decode()
