"""The public survey page: ``GET /s/{token}`` shows the form, ``POST /s/{token}`` stores the answer.

No login and no auth gate (the gate wraps ``/graphql`` only): the signed, single-use token is the
credential (``crm_core.surveys.links``). Answers (HTML, by the survey's language; bilingual when
the link is not valid, since then we do not know whose it is):

    200  the form; or "thank you" after a stored response
    404  an invalid link (malformed, forged, another tenant's key, unknown send)
    409  the survey was already answered (a link works once)
    410  the link expired
    413  a body larger than ``MAX_BODY``
    422  answers that do not fit the questions (the form again, errors beside the questions)
    429  too many requests from this IP or for this link (``Retry-After``)

``POST`` takes a form (``answers.<key>=…``, ``comment``) or JSON (``{"answers": {…},
"comment": …}``); a JSON request gets JSON back (``{"ok": true}`` or ``{"error": …, "errors":
[{field, code, message}]}``). The page loads nothing from elsewhere (inline CSS, no scripts) and is
sent with a strict Content-Security-Policy, ``Referrer-Policy: no-referrer`` (the token is in the
URL) and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, select_autoescape
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from crm_api.context import AppState
from crm_core.errors import DomainError
from crm_core.settings import Settings
from crm_core.surveys import responses
from crm_core.surveys.ratelimit import SurveyRateLimiter
from crm_core.surveys.responses import LinkState, Opened

log = logging.getLogger(__name__)

PATH = "/s/{token}"
MAX_BODY = 64 * 1024
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "submit": "提交",
        "comment": "其他意见（选填）",
        "fix": "请检查标红的问题后再提交。",
        "csat_hint": "1 = 非常不满意，5 = 非常满意",
        "nps_hint": "0 = 完全不可能，10 = 非常可能",
        "thanks_title": "感谢您的反馈",
        "thanks": "您的回答已提交，感谢您抽出宝贵时间！",
        "used_title": "问卷已填写",
        "used": "此问卷已提交过，每个链接只能填写一次。感谢您的参与！",
        "expired_title": "链接已过期",
        "expired": "此问卷链接已过期，无法再提交。",
        "invalid_title": "链接无效 / Link not valid",
        "invalid": "此链接无效或已被修改，请使用邮件中的完整链接。"
        " This link is not valid or was altered; please use the full link from the e-mail.",
        "limited_title": "请求过于频繁 / Too many requests",
        "limited": "请稍后再试。 Please try again in a little while.",
        "too_large": "提交的内容过大。 The submission is too large.",
    },
    "en": {
        "submit": "Submit",
        "comment": "Anything else? (optional)",
        "fix": "Please check the questions marked in red and submit again.",
        "csat_hint": "1 = very dissatisfied, 5 = very satisfied",
        "nps_hint": "0 = not at all likely, 10 = extremely likely",
        "thanks_title": "Thank you",
        "thanks": "Your answers were received. Thank you for your time!",
        "used_title": "Already answered",
        "used": "This survey was already answered; each link works once. Thank you!",
        "expired_title": "Link expired",
        "expired": "This survey link has expired and can no longer be answered.",
        "invalid_title": "链接无效 / Link not valid",
        "invalid": "此链接无效或已被修改，请使用邮件中的完整链接。"
        " This link is not valid or was altered; please use the full link from the e-mail.",
        "limited_title": "请求过于频繁 / Too many requests",
        "limited": "请稍后再试。 Please try again in a little while.",
        "too_large": "提交的内容过大。 The submission is too large.",
    },
}
STATUS = {LinkState.invalid: 404, LinkState.used: 409, LinkState.expired: 410}


@functools.cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _lang(opened: Opened | None) -> str:
    return "en" if opened is not None and opened.locale == "en" else "zh"


def _page(
    lang: str,
    *,
    state: str,
    status: int,
    title: str = "",
    message: str = "",
    survey: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> HTMLResponse:
    html = (
        _env()
        .get_template("survey_page.html")
        .render(
            lang=lang,
            t=TEXT[lang],
            state=state,
            title=title or (survey or {}).get("name", ""),
            message=message,
            survey=survey,
            errors=errors or {},
            values=values or {},
        )
    )
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(extra or {})})


def _notice(lang: str, key: str, status: int, extra: dict[str, str] | None = None) -> HTMLResponse:
    t = TEXT[lang]
    return _page(
        lang,
        state="notice",
        status=status,
        title=t[f"{key}_title"],
        message=t[key],
        extra=extra,
    )


class SurveyPages:
    """``/s/{token}``; Redis (rate limits) is made on first use and closed by the app's lifespan."""

    def __init__(self, settings: Settings, state_ref: dict[str, AppState]) -> None:
        self._settings = settings
        self._state_ref = state_ref
        self._redis: Redis | None = None
        self._limiter: SurveyRateLimiter | None = None

    def routes(self) -> list[Route]:
        return [Route(PATH, self.handle, methods=["GET", "POST"])]

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
            self._limiter = None

    def _rate_limiter(self) -> SurveyRateLimiter:
        if self._limiter is None:
            self._redis = Redis.from_url(self._settings.require_redis_url())
            self._limiter = SurveyRateLimiter(
                self._redis, namespace=self._settings.worker.namespace
            )
        return self._limiter

    async def handle(self, request: Request) -> Response:
        token = str(request.path_params["token"])
        wants_json = "application/json" in request.headers.get("content-type", "")
        ip = request.client.host if request.client else None
        conf = self._settings.surveys
        limits = SurveyRateLimiter.limits(
            ip,
            token,
            per_ip_minute=conf.ip_requests_per_minute,
            per_token_hour=conf.token_requests_per_hour,
        )
        wait = await self._rate_limiter().hit(limits)
        if wait > 0:
            extra = {"Retry-After": str(max(1, math.ceil(wait)))}
            if wants_json:
                return JSONResponse(
                    {"error": "rate_limited"}, status_code=429, headers={**HEADERS, **extra}
                )
            return _notice("zh", "limited", 429, extra)
        app = self._state_ref["app"]
        if app.keys is None:  # pragma: no cover - create_app always configures it
            raise RuntimeError("no tenant key store")
        opened = await responses.open_link(app.db, app.keys, token)
        if request.method == "GET":
            return self._show(opened)
        return await self._post(request, opened, token, ip, wants_json)

    def _show(self, opened: Opened) -> Response:
        lang = _lang(opened)
        if opened.state is not LinkState.open:
            return _notice(lang, opened.state.value, STATUS[opened.state])
        return _page(lang, state="form", status=200, survey=opened.survey)

    async def _post(
        self, request: Request, opened: Opened, token: str, ip: str | None, wants_json: bool
    ) -> Response:
        lang = _lang(opened)
        body = await _read_body(request)
        if body is None:
            if wants_json:
                return JSONResponse({"error": "too_large"}, status_code=413, headers=HEADERS)
            return _page(lang, state="notice", status=413, message=TEXT[lang]["too_large"])
        if opened.state is not LinkState.open:
            if wants_json:
                return JSONResponse(
                    {"error": opened.state.value}, status_code=STATUS[opened.state], headers=HEADERS
                )
            return _notice(lang, opened.state.value, STATUS[opened.state])
        parsed = _parse(body, wants_json)
        if parsed is None:
            return JSONResponse({"error": "malformed"}, status_code=400, headers=HEADERS)
        answers, comment, values = parsed
        try:
            state, _ = await responses.submit(
                self._state_ref["app"].db, opened, token, answers, comment, ip=ip
            )
        except DomainError as exc:
            if wants_json:
                errors = [
                    {"field": e.field, "code": e.code.value, "message": e.message}
                    for e in exc.errors
                ]
                return JSONResponse(
                    {"error": "invalid_answers", "errors": errors}, status_code=422, headers=HEADERS
                )
            by_field: dict[str, list[str]] = {}
            for e in exc.errors:
                by_field.setdefault(e.field or "", []).append(e.message)
            return _page(
                lang,
                state="form",
                status=422,
                survey=opened.survey,
                errors=by_field,
                values=values,
            )
        if state is not LinkState.open:
            if wants_json:
                return JSONResponse(
                    {"error": state.value}, status_code=STATUS[state], headers=HEADERS
                )
            return _notice(lang, state.value, STATUS[state])
        if wants_json:
            return JSONResponse({"ok": True}, status_code=200, headers=HEADERS)
        return _notice(lang, "thanks", 200)


async def _read_body(request: Request) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes, as_json: bool) -> tuple[dict[str, Any], Any, dict[str, str]] | None:
    """(answers, comment, the raw values to refill the form with); None when unreadable."""
    if as_json:
        try:
            data = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict):
            return None
        return dict(data.get("answers") or {}), data.get("comment"), {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None
    answers: dict[str, Any] = {}
    values: dict[str, str] = {}
    comment: str | None = None
    for name, value in pairs:
        if name == "comment":
            comment = value
            values["comment"] = value
        elif name.startswith("answers."):
            key = name.removeprefix("answers.")
            answers[key] = value
            values[key] = value
    return answers, comment, values
