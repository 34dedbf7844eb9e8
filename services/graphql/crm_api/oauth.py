"""The token endpoint of API clients: OAuth 2.0 client-credentials grant (RFC 6749 §4.4).

    POST /oauth/token   Content-Type: application/x-www-form-urlencoded
        grant_type=client_credentials [&scope=customer:read contact:read]
        client authentication: HTTP Basic (``client_secret_basic``, §2.3.1)
                            or client_id + client_secret in the body (``client_secret_post``)

    200 {"access_token", "token_type": "Bearer", "expires_in", "scope"}   (§5.1; never a refresh
        token: the client holds its credentials and simply asks again, §4.4.3)
    4xx {"error", "error_description"}                                     (§5.2)

Starlette has no authlib server integration and the grant is small, so the endpoint is written here,
following the RFC; authlib supplies the error classes (names, status codes, JSON bodies and the
``no-store`` headers). The Basic header is decoded here rather than with authlib's helper because
§2.3.1 has id and secret form-encoded inside it (``+`` is a space), and a malformed header must
fail rather than decode leniently.

Order of checks: the request's form (``invalid_request``), the grant type
(``unsupported_grant_type``), the client's credentials (``invalid_client``: an unknown client, a
wrong or expired secret and a revoked client get the very same answer; 401 with
``WWW-Authenticate: Basic`` when Basic was used or no credentials were sent, 400 for credentials in
the body), the company's status (``unauthorized_client`` once the client has proved itself), then
the scope (``invalid_scope`` unless every scope asked for was granted). Credentials are accepted
only in the body or the Authorization header, never in the URL, where logs would keep them; the
secret is never logged or put on a span.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_api.context import AppState
from crm_core.identity import api_client_auth, api_clients

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
GRANT_TYPE = "client_credentials"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_BODY = 4_096  # a legitimate request is a few hundred bytes
MAX_FIELDS = 10
REALM = "crm-api"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _InvalidClient(InvalidClientError):  # type: ignore[misc]
    """authlib's challenge puts error fields into the Basic scheme, which defines none (RFC 7617
    needs a realm): answer with a plain Basic challenge."""

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = OAuth2Error.get_headers(self)
        if self.status_code == 401:
            headers.append(("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"'))
        return headers


def _invalid_client(*, basic: bool) -> _InvalidClient:
    return _InvalidClient(
        description="client authentication failed", status_code=401 if basic else 400
    )


async def _form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != FORM_TYPE:
        raise InvalidRequestError(description=f"send the parameters as {FORM_TYPE}")
    if request.url.query:
        raise InvalidRequestError(description="send the parameters in the body, not the URL")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise InvalidRequestError(description="the request body is too large")
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except ValueError:  # non-ASCII raw bytes, bad UTF-8 behind %-escapes, too many fields
        raise InvalidRequestError(description="the request body is malformed") from None
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        # §3.2: no parameter more than once; §3.1: a parameter without a value counts as absent.
        if name in seen:
            raise InvalidRequestError(description="a parameter is repeated")
        seen.add(name)
        if value:
            form[name] = value
    return form


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str, bool]:
    """(client_id, client_secret, whether HTTP Basic was used)."""
    header = request.headers.get("authorization")
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    if header is None:
        if body_id is None and body_secret is None:
            # No credentials at all: invite the preferred method (§2.3.1 says servers MUST
            # support Basic).
            raise _invalid_client(basic=True)
        if body_id is None or body_secret is None:
            raise _invalid_client(basic=False)
        return body_id, body_secret, False
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client(basic=True)
    if body_secret is not None:
        # §2.3: a client uses one authentication method per request.
        raise InvalidRequestError(description="authenticate with Basic or the body, not both")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client(basic=True) from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon or not raw_id or not raw_secret:
        raise _invalid_client(basic=True)
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if body_id is not None and body_id != client_id:
        raise InvalidRequestError(description="client_id differs from the Authorization header")
    return client_id, secret, True


class TokenEndpoint:
    def __init__(self, state_ref: dict[str, AppState]) -> None:
        self._state_ref = state_ref

    async def handle(self, request: Request) -> Response:
        try:
            return await self._grant(request)
        except OAuth2Error as error:
            status, body, headers = error()
            extra = {k: v for k, v in headers if k.lower() != "content-type"}
            return JSONResponse(body, status_code=status, headers={**extra, **NO_STORE})

    async def _grant(self, request: Request) -> Response:
        app = self._state_ref["app"]
        form = await _form(request)
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise InvalidRequestError(description="grant_type is required")
        if grant_type != GRANT_TYPE:
            error = UnsupportedGrantTypeError(grant_type)
            error.description = f"only {GRANT_TYPE} is supported here"
            raise error
        client_id, secret, basic = _credentials(request, form)
        client = await api_client_auth.authenticate(app.db, client_id, secret)
        if client is None:
            raise _invalid_client(basic=basic)
        if not client.tenant_active:
            raise UnauthorizedClientError(description="this company's account is suspended")
        try:
            scopes = api_client_auth.narrow_scopes(client.scopes, form.get("scope"))
        except api_client_auth.InvalidScope:
            raise InvalidScopeError(
                description="ask only for scopes this client was granted"
            ) from None
        issued = await app.tokens.issue_client(
            client_record_id=client.id,
            client_id=client.client_id,
            tenant_id=client.tenant.id,
            role=api_clients.CLIENT_ROLE.value,
            scopes=scopes,
        )
        body: dict[str, Any] = {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": max(0, issued.expires_at - int(time.time())),
            "scope": " ".join(sorted(scopes)),
        }
        return JSONResponse(body, headers=NO_STORE)


def token_route(state_ref: dict[str, AppState]) -> Route:
    return Route(TOKEN_PATH, TokenEndpoint(state_ref).handle, methods=["POST"])
