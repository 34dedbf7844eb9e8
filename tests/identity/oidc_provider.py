"""A real OpenID Connect provider for the SSO tests.

Built from authlib's server classes (``AuthorizationServer``, ``AuthorizationCodeGrant``,
``CodeChallenge``, ``OpenIDCode``) behind a small Starlette glue, served by uvicorn over real HTTP on
127.0.0.1 (a free port below 32768) in a background thread. It serves discovery, JWKS, an authorize
endpoint that auto-consents the configured account, and a token endpoint; id tokens are signed with
its own RSA key. ``misbehave`` makes it lie on demand for the attack tests.

PKCE: authlib's ``CodeChallenge(required=True)`` enforces PKCE for *public* clients only — a
confidential client (client_secret_basic) that sends no challenge gets a code, and a token, without
one. ``StrictCodeChallenge`` makes this provider require an S256 challenge from every client, as a
provider configured to require PKCE would.
"""

from __future__ import annotations

import hmac
import random
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

import uvicorn
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Account:
    """The person the authorize endpoint signs in (auto-consent)."""

    subject: str
    email: str | None
    email_verified: Any = True
    name: str = "SSO User"


@dataclass
class Misbehaviour:
    id_token_issuer: str | None = None  # the `iss` written into id tokens
    id_token_audience: list[str] | None = None  # the `aud` written into id tokens
    azp: str | None = None
    nonce: str | None = None  # replaces the nonce the client sent
    exp_offset: int | None = None  # exp = now + offset (negative: already expired)
    sign_with: RSAKey | None = None  # a key that is not in the JWKS
    discovery_issuer: str | None = None
    challenge_methods: list[str] | None = None  # code_challenge_methods_supported
    discovery_extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "openid").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    subject: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for k, v in pairs:
            self._datalist[k].append(v)
        self._data = {k: v[0] for k, v in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


@dataclass
class RawRequest:
    method: str
    url: str
    headers: Headers
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]


class GlueRequest(OAuth2Request):
    """authlib's request, built from what the Starlette endpoint read."""

    def __init__(self, raw: RawRequest) -> None:
        super().__init__(raw.method, raw.url, headers=raw.headers)
        self._args = dict(raw.query)
        self._form = dict(raw.form)
        self.payload = Payload(raw.query + raw.form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class StrictCodeChallenge(CodeChallenge):
    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required with code_challenge_method=S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    @property
    def provider(self) -> OidcProvider:
        return self.server.provider  # type: ignore[no-any-return]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        if data.get("nonce"):
            self.provider.nonces.add(data["nonce"])
        self.provider.codes[code] = Code(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            subject=request.user.subject,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()),
            expires_at=time.time() + 300,
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        item = self.provider.codes.get(code)
        if item and item.client_id == client.client_id and item.expires_at > time.time():
            return item
        return None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        # Deleted when the token is issued: a code works once.
        self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Account | None:
        return self.provider.accounts.get(authorization_code.subject)


class IdTokens(OpenIDCode):
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # A nonce that already got a code is a replayed authentication request. (Recorded when the
        # code is saved: authlib validates the request twice, at consent and at the response.)
        return nonce in self.provider.nonces

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.misbehave.sign_with or self.provider.key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        key = self.resolve_client_private_key(client)
        return {"alg": "RS256", "kid": key.kid or ""}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        bad = self.provider.misbehave
        claims: dict[str, Any] = {
            "iss": bad.id_token_issuer or self.provider.issuer,
            "aud": bad.id_token_audience or [client.client_id],
        }
        if bad.azp:
            claims["azp"] = bad.azp
        if bad.exp_offset is not None:
            now = int(time.time())
            claims["exp"] = now + bad.exp_offset
            claims["iat"] = now + min(bad.exp_offset, 0) - 60
        return claims

    def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
        claims = super().get_authorization_code_claims(authorization_code)
        if self.provider.misbehave.nonce is not None:
            claims["nonce"] = self.provider.misbehave.nonce
        return claims

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        info = UserInfo(sub=user.subject, name=user.name)
        if "email" in scope.split() and user.email is not None:
            info["email"] = user.email
            info["email_verified"] = user.email_verified
        return info


class Server(AuthorizationServer):
    """authlib's framework-neutral server with the glue methods a framework integration adds."""

    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(scopes_supported=["openid", "email", "profile"])
        self.provider = provider
        self.register_token_generator(
            "default", BearerTokenGenerator(lambda **_: generate_token(42))
        )
        self.register_grant(CodeGrant, [StrictCodeChallenge(required=True), IdTokens(provider)])

    def query_client(self, client_id: str) -> Client | None:
        return self.provider.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        self.provider.issued.append(token)

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else GlueRequest(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def _to_response(result: tuple[int, Any, Any]) -> Response:
    status, body, headers = result
    headers = dict(headers or [])
    if status == 302:
        return RedirectResponse(headers["Location"], status_code=302)
    if isinstance(body, dict):
        return JSONResponse(body, status_code=status, headers=headers)
    return Response(body or "", status_code=status, headers=headers)


def _bind_free_port() -> socket.socket:
    """A port below 32768 (the ephemeral range starts above): no clash with outgoing sockets."""
    for port in random.sample(range(20_000, 32_000), 200):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError("no free port below 32768")


class OidcProvider:
    def __init__(self, name: str) -> None:
        self.name = name
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"{name}-1", "use": "sig"})
        self.clients: dict[str, Client] = {}
        self.accounts: dict[str, Account] = {}
        self.account: Account | None = None
        self.codes: dict[str, Code] = {}
        self.nonces: set[str] = set()
        self.issued: list[dict[str, Any]] = []
        self.token_errors: list[str] = []
        self.authorize_errors: list[str] = []
        self.misbehave = Misbehaviour()
        self.server = Server(self)
        self._sock = _bind_free_port()
        self.port = self._sock.getsockname()[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- configuration the tests use ------------------------------------------------------------
    def add_client(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.clients[client_id] = Client(client_id, client_secret, [redirect_uri])

    def sign_in_as(self, account: Account) -> None:
        self.accounts[account.subject] = account
        self.account = account

    def reset(self) -> None:
        self.misbehave = Misbehaviour()
        self.token_errors.clear()
        self.authorize_errors.clear()

    # -- endpoints ---------------------------------------------------------------------------------
    def _raw(self, request: Request, form: list[tuple[str, str]]) -> RawRequest:
        return RawRequest(
            method=request.method,
            url=str(request.url),
            headers=request.headers,
            query=list(request.query_params.multi_items()),
            form=form,
        )

    async def discovery(self, request: Request) -> Response:
        bad = self.misbehave
        doc: dict[str, Any] = {
            "issuer": bad.discovery_issuer or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": (
                bad.challenge_methods if bad.challenge_methods is not None else ["S256"]
            ),
            **bad.discovery_extra,
        }
        return JSONResponse(doc)

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        raw = self._raw(request, [])
        try:
            grant = self.server.get_consent_grant(request=raw, end_user=self.account)
        except OAuth2Error as error:
            self.authorize_errors.append(error.error)
            return _to_response(self.server.handle_error_response(GlueRequest(raw), error))
        result = self.server.create_authorization_response(
            request=grant.request, grant_user=self.account, grant=grant
        )
        status, body, _ = result
        if status != 302 or "error=" in dict(result[2]).get("Location", ""):
            self.authorize_errors.append(str(body or dict(result[2]).get("Location")))
        return _to_response(result)

    async def token(self, request: Request) -> Response:
        form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        result = self.server.create_token_response(self._raw(request, form))
        if result[0] != 200:
            self.token_errors.append(result[1].get("error", "?"))
        return _to_response(result)

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> OidcProvider:
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._uvicorn.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._uvicorn.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"OIDC provider {self.name} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def authorize_url(self, **params: str) -> str:
        return f"{self.issuer}/authorize?{urlencode(params)}"
