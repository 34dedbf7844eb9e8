"""What the public pages reached from a mail (``/invite/{token}``, ``/u/{token}``) share: a small
self-contained HTML page, strict headers, a bounded body, and rate limits per IP and per link.

No login and outside the GraphQL auth gate: the token is the credential. Pages load nothing from
elsewhere (inline CSS, no scripts), are sent with a strict Content-Security-Policy,
``Referrer-Policy: no-referrer`` (the token is in the URL) and ``Cache-Control: no-store``.
The limits are the survey page's (``CRM_SURVEYS__IP_REQUESTS_PER_MINUTE``,
``…__TOKEN_REQUESTS_PER_HOUR``), counted in their own Redis keys.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from jinja2 import Environment, select_autoescape
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from crm_api.context import AppState
from crm_api.surveys.public import HEADERS
from crm_core.settings import Settings
from crm_core.surveys.ratelimit import SurveyRateLimiter

MAX_BODY = 16 * 1024
LIMITED = ("请求过于频繁 / Too many requests", "请稍后再试。 Please try again in a little while.")
TOO_LARGE = "提交的内容过大。 The submission is too large."

_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: -apple-system, 'PingFang SC', 'Microsoft YaHei', Arial, sans-serif;
  color: #222; max-width: 480px; margin: 40px auto; padding: 0 16px; }
h1 { font-size: 22px; } label { display: block; margin-top: 12px; }
input[type=text], input[type=password] { width: 100%; padding: 8px; box-sizing: border-box; }
button { margin-top: 16px; padding: 8px 20px; } .err { color: #c00; font-size: 14px; }
</style></head>
<body>
<h1>{{ title }}</h1>
{% if message %}<p>{{ message }}</p>{% endif %}
{% if form %}
<form method="post">
{% for f in form.fields %}
<label>{{ f.label }}
<input type="{{ f.kind }}" name="{{ f.name }}" value="{{ f.value }}"{% if f.kind == 'password' %} autocomplete="new-password"{% endif %}></label>
{% for e in errors.get(f.name, []) %}<div class="err">{{ e }}</div>{% endfor %}
{% endfor %}
{% for e in errors.get('', []) %}<div class="err">{{ e }}</div>{% endfor %}
<button type="submit">{{ form.button }}</button>
</form>
{% endif %}
</body></html>
"""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str = "text"
    value: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    button: str
    fields: list[Field] = field(default_factory=list)


@functools.cache
def _template():  # type: ignore[no-untyped-def]
    return Environment(autoescape=select_autoescape(default=True)).from_string(_PAGE)


def page(
    lang: str,
    title: str,
    message: str = "",
    *,
    status: int = 200,
    form: Form | None = None,
    errors: dict[str, list[str]] | None = None,
    extra: dict[str, str] | None = None,
) -> HTMLResponse:
    html = _template().render(
        lang=lang, title=title, message=message, form=form, errors=errors or {}
    )
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(extra or {})})


class PublicPageLimiter(SurveyRateLimiter):
    """The survey page's fixed windows, in keys of their own (``<ns>:mail-page-rate:…``)."""

    def __init__(self, redis: Redis, *, namespace: str) -> None:
        super().__init__(redis, namespace=namespace)
        self._prefix = f"{namespace}:mail-page-rate"


class PageKit:
    """Redis (for the limits) made on first use and closed by the app's lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._redis: Redis | None = None
        self._limiter: PublicPageLimiter | None = None

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis, self._limiter = None, None

    async def limited(self, request: Request, token: str) -> HTMLResponse | None:
        """A 429 page when this IP or this link asked too often; None to go on."""
        if self._limiter is None:
            self._redis = Redis.from_url(self.settings.require_redis_url())
            self._limiter = PublicPageLimiter(self._redis, namespace=self.settings.worker.namespace)
        conf = self.settings.surveys
        ip = request.client.host if request.client else None
        limits = SurveyRateLimiter.limits(
            ip,
            token,
            per_ip_minute=conf.ip_requests_per_minute,
            per_token_hour=conf.token_requests_per_hour,
        )
        wait = await self._limiter.hit(limits)
        if wait <= 0:
            return None
        extra = {"Retry-After": str(max(1, math.ceil(wait)))}
        return page("zh", LIMITED[0], LIMITED[1], status=429, extra=extra)


async def read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded body as a dict (last value wins); None when larger than ``MAX_BODY`` or
    unreadable."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    try:
        pairs = parse_qsl(
            b"".join(chunks).decode("utf-8"), keep_blank_values=True, max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


class TokenPages:
    """A public page at ``path`` (GET shows, POST acts) for the token in its URL, rate-limited
    per IP and per token before anything else; ``serve`` does the page's own work."""

    path: str

    def __init__(self, kit: PageKit, state_ref: dict[str, AppState]) -> None:
        self._kit = kit
        self._state_ref = state_ref

    def routes(self) -> list[Route]:
        return [Route(self.path, self.handle, methods=["GET", "POST"])]

    async def handle(self, request: Request) -> Response:
        token = str(request.path_params["token"])
        limited = await self._kit.limited(request, token)
        if limited is not None:
            return limited
        return await self.serve(request, token, self._state_ref["app"])

    async def serve(self, request: Request, token: str, app: AppState) -> Response:
        raise NotImplementedError
