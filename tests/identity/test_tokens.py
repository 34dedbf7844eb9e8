"""Every claim and header field that matters is checked on every request: each forged or
damaged variant of a valid token is refused with 401, while the unaltered one passes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from crmtest import GQL, token_service
from joserfc import jwt
from joserfc.jwk import OKPKey

from crm_core.errors import Unauthenticated

QUERY = "{ viewer { tenantSlug role } }"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


@pytest.fixture
async def forge(db, settings, tenant_a) -> Any:
    """Signs any header and claims with the gateway's real signing key; ``good`` are the header
    and claims of a valid token for alpha's admin."""
    key = await token_service(db, settings).keys.signing_key()
    now = int(time.time())
    good_header = {"alg": "Ed25519", "kid": key.kid, "typ": "at+jwt"}
    good_claims = {
        "iss": settings.auth.issuer,
        "aud": settings.auth.audience,
        "sub": str(tenant_a.admin.user_id),
        "tid": str(tenant_a.ref.id),
        "role": "admin",
        "typ": "access",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }

    def sign(header: dict[str, Any] | None = None, **claims: Any) -> str:
        body = {k: v for k, v in {**good_claims, **claims}.items() if v is not None}
        return jwt.encode(header or good_header, body, key, algorithms=["Ed25519"])

    sign.key = key  # type: ignore[attr-defined]
    sign.header = good_header  # type: ignore[attr-defined]
    sign.claims = good_claims  # type: ignore[attr-defined]
    return sign


async def _status(app: Any, token: str) -> int:
    return (await GQL(app, token).post(QUERY)).status_code


async def test_the_unaltered_forgery_is_valid(app, forge) -> None:
    # Guards the other tests: their tokens fail for the one thing they change.
    response = await GQL(app, forge()).post(QUERY)
    assert response.status_code == 200
    assert response.json()["data"]["viewer"] == {"tenantSlug": "alpha", "role": "ADMIN"}


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": None},
        {"exp": int(time.time()) - 3_600},
        {"exp": "tomorrow"},
        {"nbf": None},
        {"nbf": int(time.time()) + 3_600},
        {"iat": None},
        {"iss": None},
        {"iss": "https://elsewhere.example"},
        {"aud": None},
        {"aud": "another-api"},
        {"aud": ["another-api"]},
        {"typ": None},
        {"typ": "refresh"},
        {"jti": None},
        {"sub": None},
        {"sub": "not-a-uuid"},
        {"tid": None},
        {"role": "superuser"},
        {"exp": int(time.time()) + 86_400},  # a longer life than we ever issue
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
async def test_bad_claims_are_refused(app, forge, claims) -> None:
    assert await _status(app, forge(**claims)) == 401


@pytest.mark.parametrize(
    "change",
    [{"typ": "JWT"}, {"typ": None}, {"kid": None}, {"kid": "no-such-key"}],
    ids=["typ=JWT", "no typ", "no kid", "unknown kid"],
)
async def test_bad_headers_are_refused(app, forge, change) -> None:
    header = {k: v for k, v in {**forge.header, **change}.items() if v is not None}
    assert await _status(app, forge(header)) == 401


async def test_a_key_we_do_not_hold_is_refused(app, forge) -> None:
    stranger = OKPKey.generate_key("Ed25519", auto_kid=True)
    for kid in (stranger.kid, forge.key.kid):  # its own key id, or ours
        header = {**forge.header, "kid": kid}
        token = jwt.encode(header, forge.claims, stranger, algorithms=["Ed25519"])
        assert await _status(app, token) == 401


async def test_alg_none_is_refused(app, forge) -> None:
    for alg in ("none", "None", "NONE"):
        unsigned = _unsigned({**forge.header, "alg": alg}, forge.claims)
        assert await _status(app, unsigned + ".") == 401


async def test_hs256_keyed_with_our_public_key_is_refused(app, forge) -> None:
    # The classic confusion attack: a verifier that lets the token pick the algorithm would check
    # an HMAC made with the public key (which anyone can fetch from the JWKS) as the secret.
    public = forge.key.as_dict(private=False)
    secrets_tried = [
        forge.key.as_pem(private=False),
        base64.urlsafe_b64decode(public["x"] + "=="),
        json.dumps(public).encode(),
    ]
    for secret in secrets_tried:
        signing_input = _unsigned({**forge.header, "alg": "HS256"}, forge.claims)
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert await _status(app, f"{signing_input}.{_b64(mac)}") == 401


async def test_tampered_payload_and_junk_are_refused(app, forge) -> None:
    header, _, signature = forge().split(".")
    other = _unsigned(forge.header, {**forge.claims, "role": "owner"}).split(".")[1]
    assert await _status(app, f"{header}.{other}.{signature}") == 401
    for junk in ("x" * 5_000, "a.b", "....", forge() + "x"):
        assert await _status(app, junk) == 401


async def test_non_ascii_tokens_are_refused(db, settings) -> None:
    # HTTP clients cannot send these; a proxy could. Refused without an unexpected error.
    with pytest.raises(Unauthenticated):
        await token_service(db, settings).verify("é.é.é")
