"""Browser sign-in through a tenant's OpenID Connect provider (authlib's Starlette client).

    GET /auth/sso/{tenant_slug}/{provider_id}/login  → 302 to the provider (state, nonce, PKCE S256)
    GET /auth/sso/callback                           → 200 JSON session, or 4xx JSON error

Where the flow's secrets live: authlib's Starlette client keeps its per-flow data through
``request.session``. We give it a cache (Redis), so nonce, code_verifier and redirect_uri stay on
the server with a short TTL, and the browser's cookie holds only a marker that this browser started
that flow (the login-CSRF binding of RFC 6749 §10.12). The cookie is Starlette's SessionMiddleware
(signed with ``CRM_SSO__COOKIE_SECRET``), mounted on ``/auth/sso`` only: HttpOnly, SameSite=Lax (the
provider's redirect back is a top-level GET, which Lax allows), Secure outside development, and it
lives ``flow_ttl_seconds``. A second record (ours, keyed by state) says which tenant and provider
the flow belongs to, because the callback URL is the same for every provider (one URL to register
at each of them). A state is spent by its first callback twice over: authlib's data is read with
GETDEL (so two racing callbacks cannot both get it) and our record is deleted; a replay, even with
an old copy of the cookie, finds nothing.

What the callback checks beyond authlib's defaults: the id token's ``iss`` must equal the issuer the
admin registered (authlib would trust whatever the discovery document says), ``aud`` must be our
client id and nothing else (authlib checks no audience when an ``azp`` matches), leeway on
exp/iat/nbf is ``CRM_SSO__ID_TOKEN_LEEWAY_SECONDS`` (authlib defaults to 120 s: passed as
``leeway=`` to ``authorize_access_token``), and a token response without an id token is refused.
The discovery document must name the registered issuer and offer PKCE S256, and is pruned to the
fields we use: authlib passes it whole as keyword arguments to its HTTP client, so a field such as
``code_challenge_method: null`` would otherwise switch our PKCE off. The redirect is checked to
carry an S256 challenge before it leaves.

The answer: this is an API-first product, so the callback returns the session as JSON
(``accessToken``, ``tokenType``, ``expiresAt``, ``refreshToken``, ``refreshExpiresAt``,
``tenantSlug``, ``role``: the session the ``login`` mutation gives), with ``Cache-Control:
no-store``. Tokens never go in a URL, where history and logs would keep them.

Errors (JSON ``{error, message}``, no session): 400 for a bad, unknown, replayed or foreign state
and for a misconfigured provider; 401 when the provider's answer fails (code exchange refused, id
token invalid); 403 when the id token is valid but the account rule refuses the person; 404 for an
unknown (or another tenant's, or disabled) provider; 502 when the provider cannot be reached.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from redis.asyncio import Redis
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router

from crm_api.context import AppState
from crm_core.errors import DomainError
from crm_core.identity import sso_accounts, sso_providers
from crm_core.identity.models import SsoProvider
from crm_core.identity.service import start_session
from crm_core.security.crypto import load_master_key
from crm_core.settings import Environment, Settings

log = logging.getLogger(__name__)

PREFIX = "/auth/sso"
CALLBACK = f"{PREFIX}/callback"
COOKIE = "crm_sso"
SCOPE = "openid email profile"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The fields of a discovery document we use; everything else is dropped (see the module doc).
METADATA_FIELDS = frozenset(
    {
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "end_session_endpoint",
        "response_types_supported",
        "grant_types_supported",
        "scopes_supported",
        "claims_supported",
        "subject_types_supported",
        "token_endpoint_auth_methods_supported",
        "code_challenge_methods_supported",
        "id_token_signing_alg_values_supported",
        "_loaded_at",
    }
)
# Id tokens must be signed with the provider's published key pair: never with a shared secret.
SIGNING_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class ProviderProblem(Exception):
    """The provider's discovery document does not meet our requirements."""


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=NO_STORE)


def discovery_url(issuer: str) -> str:
    # OpenID Connect Discovery §4: strip one trailing slash, append the well-known path.
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def vet_metadata(metadata: dict[str, Any], provider: SsoProvider, settings: Settings) -> None:
    """Check the discovery document in place and drop the fields we do not use."""
    if metadata.get("issuer") != provider.issuer:
        # Discovery §4.3: the document must name exactly the issuer it was fetched for.
        raise ProviderProblem("the discovery document names another issuer")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = metadata.get(name)
        if not isinstance(value, str):
            raise ProviderProblem(f"the discovery document has no {name}")
        try:
            sso_providers.check_provider_url(value, settings, name)
        except DomainError:
            raise ProviderProblem(f"the {name} is not an https URL") from None
    methods = metadata.get("code_challenge_methods_supported")
    if not isinstance(methods, list) or "S256" not in methods:
        raise ProviderProblem("the provider does not offer PKCE with S256")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algs = [a for a in offered if a in SIGNING_ALGS] if isinstance(offered, list) else []
    if not algs:
        raise ProviderProblem("the provider signs id tokens with no algorithm we accept")
    for key in list(metadata):
        if key not in METADATA_FIELDS:
            del metadata[key]
    metadata["id_token_signing_alg_values_supported"] = algs


def claims_options(provider: SsoProvider) -> dict[str, Any]:
    """Passed to authlib's id-token validation (a fresh dict each time: authlib mutates it)."""
    client_id = provider.client_id

    def only_us(_claims: Any, value: Any) -> bool:
        # We trust no other audience, so a token also meant for someone else is refused.
        return bool(value == client_id or value == [client_id])

    return {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": client_id, "validate": only_us},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }


class RedisStateCache:
    """The cache authlib's Starlette integration keeps flow data in (``get``/``set``/``delete``).

    ``get`` is GETDEL: the first read spends the state, atomically across gateway replicas. authlib
    reads only after it found this browser's marker in the cookie, but it calls ``delete`` on every
    callback, marker or not: honouring that would let anyone who learns a state cancel the real
    browser's sign-in. So ``delete`` does nothing; entries go by GETDEL or by their TTL."""

    def __init__(self, redis: Redis, prefix: str, ttl: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl

    async def get(self, key: str) -> str | None:
        value = await self._redis.getdel(self._prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, expires_in: int | None = None) -> None:
        await self._redis.set(self._prefix + key, value, ex=min(expires_in or self._ttl, self._ttl))

    async def delete(self, key: str) -> None:
        return None


@dataclass
class _Client:
    app: Any  # authlib's StarletteOAuth2App (untyped)
    version: datetime
    loaded: float


class SsoEndpoints:
    """The two routes, mounted at ``/auth/sso`` by ``create_app()``; Redis and the per-provider
    authlib clients are made on first use and closed by the app's lifespan (``aclose``)."""

    def __init__(self, settings: Settings, state_ref: dict[str, AppState]) -> None:
        self._settings = settings
        self._state_ref = state_ref
        conf = settings.sso
        self._ttl = conf.flow_ttl_seconds
        # Without a configured secret, production refuses SSO (replicas must share the secret);
        # elsewhere a per-process secret is enough for a flow that lasts minutes.
        self._configured = conf.cookie_secret is not None or not settings.is_production
        self._secret = (
            conf.cookie_secret.get_secret_value() if conf.cookie_secret else secrets.token_hex(32)
        )
        self._redis: Redis | None = None
        self._clients: dict[uuid.UUID, _Client] = {}
        ns = settings.worker.namespace
        self._flow_prefix = f"{ns}:sso:flow:"
        self._authlib_prefix = f"{ns}:sso:authlib:"

    def mount(self) -> Mount:
        router = Router(
            routes=[
                Route("/callback", self.callback, methods=["GET"]),
                Route("/{tenant_slug}/{provider_id}/login", self.login, methods=["GET"]),
            ]
        )
        app = SessionMiddleware(
            router,
            secret_key=self._secret,
            session_cookie=COOKIE,
            max_age=self._ttl,
            path=PREFIX,
            same_site="lax",
            https_only=self._settings.environment is not Environment.development,
        )
        return Mount(PREFIX, app=app)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def _app(self) -> AppState:
        return self._state_ref["app"]

    def _redis_client(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self._settings.require_redis_url())
        return self._redis

    async def _client_for(self, provider: SsoProvider) -> Any:
        """One authlib client per provider, rebuilt when the provider changes or its discovery
        document and keys are older than ``metadata_ttl_seconds``."""
        cached = self._clients.get(provider.id)
        ttl = self._settings.sso.metadata_ttl_seconds
        if (
            cached is not None
            and cached.version == provider.updated_at
            and time.monotonic() - cached.loaded < ttl
        ):
            return cached.app
        cache = RedisStateCache(self._redis_client(), self._authlib_prefix, self._ttl)
        oauth = OAuth(cache=cache)
        client = oauth.register(
            name=f"sso_{provider.id.hex}",
            client_id=provider.client_id,
            client_secret=sso_providers.client_secret(load_master_key(self._settings), provider),
            server_metadata_url=discovery_url(provider.issuer),
            client_kwargs={
                "scope": SCOPE,
                # Without it authlib's Starlette client sends no PKCE at all.
                "code_challenge_method": "S256",
                "timeout": self._settings.sso.http_timeout_seconds,
            },
        )
        # authlib keeps flow data for an hour by default; a sign-in takes minutes.
        client.framework.expires_in = self._ttl
        vet_metadata(await client.load_server_metadata(), provider, self._settings)
        self._clients[provider.id] = _Client(client, provider.updated_at, time.monotonic())
        return client

    def _callback_url(self, request: Request) -> str:
        configured = self._settings.sso.callback_url
        if configured:
            return configured
        return str(request.url.replace(path=CALLBACK, query="", fragment=""))

    async def login(self, request: Request) -> Response:
        if not self._configured:
            return _error(503, "sso_not_configured", "single sign-on is not configured")
        try:
            provider_id = uuid.UUID(request.path_params["provider_id"])
        except ValueError:
            return _error(404, "not_found", "sign-in provider not found")
        found = await sso_providers.provider_for_login(
            self._app.db, tenant_slug=request.path_params["tenant_slug"], provider_id=provider_id
        )
        if found is None:
            return _error(404, "not_found", "sign-in provider not found")
        provider, tenant = found
        try:
            client = await self._client_for(provider)
        except ProviderProblem as exc:
            log.warning("sso provider %s refused: %s", provider.id, exc)
            return _error(400, "provider_misconfigured", str(exc))
        except (httpx.HTTPError, ValueError):
            log.warning("sso provider %s unreachable", provider.id, exc_info=True)
            return _error(502, "provider_unreachable", "the sign-in provider could not be reached")
        state = secrets.token_urlsafe(32)
        response: Response = await client.authorize_redirect(
            request, self._callback_url(request), state=state
        )
        query = parse_qs(urlsplit(response.headers["location"]).query)
        if query.get("code_challenge_method") != ["S256"] or not query.get("code_challenge"):
            # Not reachable with a vetted document; kept because PKCE must never be skipped.
            return _error(500, "pkce_missing", "refusing to start a sign-in without PKCE")
        flow = json.dumps({"provider": str(provider.id), "tenant": str(tenant.id)})
        await self._redis_client().set(self._flow_prefix + state, flow, ex=self._ttl)
        response.headers.update(NO_STORE)
        return response

    async def callback(self, request: Request) -> Response:
        if not self._configured:
            return _error(503, "sso_not_configured", "single sign-on is not configured")
        state = request.query_params.get("state") or ""
        bad_state = _error(
            400, "invalid_state", "unknown, expired or already used sign-in; start again"
        )
        if not state or len(state) > 256:
            return bad_state
        raw = await self._redis_client().get(self._flow_prefix + state)
        if raw is None:
            return bad_state
        flow = json.loads(raw)
        found = await sso_providers.provider_for_callback(
            self._app.db,
            provider_id=uuid.UUID(flow["provider"]),
            tenant_id=uuid.UUID(flow["tenant"]),
        )
        if found is None:
            await self._redis_client().delete(self._flow_prefix + state)
            return _error(400, "provider_disabled", "this sign-in provider is no longer enabled")
        provider, _tenant = found
        try:
            client = await self._client_for(provider)
            token = await client.authorize_access_token(
                request,
                leeway=self._settings.sso.id_token_leeway_seconds,
                claims_options=claims_options(provider),
            )
        except MismatchingStateError:
            # No marker in this browser's cookie (another browser started the flow), or the
            # server-side data is spent: keep the flow record so the real browser can finish.
            return bad_state
        except OAuthError as exc:
            await self._redis_client().delete(self._flow_prefix + state)
            log.info("sso %s: provider refused: %s", provider.id, exc.error)
            return _error(401, "sso_failed", f"the sign-in provider refused: {exc.error}")
        except JoseError as exc:
            await self._redis_client().delete(self._flow_prefix + state)
            log.info("sso %s: id token rejected: %s", provider.id, exc)
            return _error(401, "invalid_id_token", f"the id token was rejected: {exc.description}")
        except ProviderProblem as exc:
            await self._redis_client().delete(self._flow_prefix + state)
            return _error(400, "provider_misconfigured", str(exc))
        except (httpx.HTTPError, ValueError):
            await self._redis_client().delete(self._flow_prefix + state)
            log.warning("sso provider %s unreachable", provider.id, exc_info=True)
            return _error(502, "provider_unreachable", "the sign-in provider could not be reached")
        await self._redis_client().delete(self._flow_prefix + state)
        claims = token.get("userinfo")
        if not claims:
            return _error(401, "invalid_id_token", "the provider returned no id token")
        identity = sso_accounts.ExternalIdentity(
            issuer=claims["iss"],
            subject=str(claims["sub"]),
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )
        try:
            account = await sso_accounts.resolve_account(
                self._app.db, provider_id=provider.id, identity=identity
            )
        except DomainError as exc:
            log.info("sso %s: account refused: %s", provider.id, exc)
            return _error(403, "account_refused", exc.errors[0].message)
        agent = request.headers.get("user-agent")
        signed = await start_session(
            self._app.db,
            self._app.tokens,
            user_id=account.user_id,
            tenant=account.tenant,
            role=account.role,
            client_info=agent[:200] if agent else None,
        )
        body = {
            "accessToken": signed.token,
            "tokenType": "Bearer",
            "expiresAt": datetime.fromtimestamp(signed.expires_at, UTC).isoformat(),
            "refreshToken": signed.refresh_token,
            "refreshExpiresAt": datetime.fromtimestamp(signed.refresh_expires_at, UTC).isoformat(),
            "tenantSlug": signed.tenant_slug,
            "role": signed.role.value,
        }
        return JSONResponse(body, headers=NO_STORE)
