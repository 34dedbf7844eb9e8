"""``GET /u/{token}`` asks to confirm; ``POST /u/{token}`` records the opt-out (also the RFC 8058
one-click POST a mail client sends with ``List-Unsubscribe=One-Click``).

    200  the confirmation page; or "unsubscribed" after a POST (repeating it is harmless)
    404  an invalid link (malformed, forged, another tenant's key, tenant not active)
    413  a body larger than ``pages.MAX_BODY``
    429  too many requests from this IP or for this link (``Retry-After``)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from crm_api.context import AppState
from crm_api.mail.pages import TOO_LARGE, Form, TokenPages, page, read_form
from crm_core.mail import unsubscribe
from crm_core.mail.events import tenant_locale
from crm_core.mail.render import locale_of

PATH = "/u/{token}"
TEXT = {
    "zh": {
        "title": "退订通知邮件",
        "ask": "不再向 {address} 发送通知邮件？（密码重置等账户邮件不受影响。）",
        "button": "确认退订",
        "done_title": "已退订",
        "done": "{address} 将不再收到通知邮件。",
    },
    "en": {
        "title": "Unsubscribe from notifications",
        "ask": "Stop sending notification mails to {address}? (Account mails such as password "
        "resets still arrive.)",
        "button": "Unsubscribe",
        "done_title": "Unsubscribed",
        "done": "{address} will get no more notification mails.",
    },
}
INVALID = (
    "链接无效 / Link not valid",
    "此链接无效或已被修改，请使用邮件中的完整链接。"
    " This link is not valid or was altered; please use the full link from the e-mail.",
)


class UnsubscribePages(TokenPages):
    path = PATH

    async def serve(self, request: Request, token: str, app: AppState) -> Response:
        if app.keys is None:  # pragma: no cover - create_app always configures it
            raise RuntimeError("no tenant key store")
        if request.method == "POST" and await read_form(request) is None:
            return page("zh", TOO_LARGE, status=413)
        opened = await unsubscribe.open_token(app.db, app.keys, token)
        if opened is None:
            return page("zh", INVALID[0], INVALID[1], status=404)
        async with app.db.tenant(opened.tenant).read() as session:
            lang = locale_of((await tenant_locale(session, opened.tenant))[0])
        t = TEXT[lang]
        if request.method == "GET":
            return page(
                lang,
                t["title"],
                t["ask"].format(address=opened.address),
                form=Form(button=t["button"]),
            )
        await unsubscribe.opt_out(app.db, opened)
        return page(lang, t["done_title"], t["done"].format(address=opened.address))
