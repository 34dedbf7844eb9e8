"""``GET /invite/{token}`` shows the invitation; ``POST`` accepts it (``crm_core.identity.
invitations.accept``): a new account takes a name and a password (the password policy of
``identity.passwords``), an existing account just joins and signs in as usual afterwards.

    200  the form; or "welcome" after the invitation was accepted
    404  an invalid link (malformed, unknown, replaced by a resend, company not active)
    409  already accepted (a link works once)
    410  withdrawn or expired
    413  a body larger than ``pages.MAX_BODY``
    422  a missing name or a password the policy refuses (the form again, errors beside fields)
    429  too many requests from this IP or for this link (``Retry-After``)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from crm_api.context import AppState
from crm_api.mail.pages import TOO_LARGE, Field, Form, TokenPages, page, read_form
from crm_core.errors import DomainError
from crm_core.identity import invitations
from crm_core.identity.invitations import InvitationUnusable, LinkState, Opened

PATH = "/invite/{token}"
STATUS = {
    LinkState.invalid: 404,
    LinkState.used: 409,
    LinkState.revoked: 410,
    LinkState.expired: 410,
}
ROLES = {
    "zh": {"owner": "所有者", "admin": "管理员", "manager": "经理", "sales": "销售",
           "service": "客服", "viewer": "只读成员"},
    "en": {"owner": "owner", "admin": "admin", "manager": "manager", "sales": "sales",
           "service": "service", "viewer": "viewer"},
}  # fmt: skip
TEXT = {
    "zh": {
        "title": "加入 {company}",
        "new": "您受邀以「{role}」身份加入 {company}（{email}）。请设置姓名和密码。",
        "existing": "您受邀以「{role}」身份加入 {company}。{email} 已有账户，接受后用原密码登录。",
        "name": "姓名",
        "password": "密码（至少 10 个字符）",
        "join": "接受邀请",
        "done_title": "欢迎加入 {company}",
        "done": "您已成为 {company} 的成员，现在可以用 {email} 登录。",
    },
    "en": {
        "title": "Join {company}",
        "new": "You are invited to join {company} as {role} ({email}). Choose your name and a "
        "password.",
        "existing": "You are invited to join {company} as {role}. {email} already has an account: "
        "accept, then sign in with your usual password.",
        "name": "Name",
        "password": "Password (at least 10 characters)",
        "join": "Accept the invitation",
        "done_title": "Welcome to {company}",
        "done": "You are now a member of {company}; sign in with {email}.",
    },
}
NOTICES: dict[str, dict[LinkState, tuple[str, str]]] = {
    "zh": {
        LinkState.used: ("邀请已接受", "此邀请已被接受，每个链接只能使用一次。请直接登录。"),
        LinkState.revoked: ("邀请已撤销", "此邀请已被撤销，请联系邀请人。"),
        LinkState.expired: ("邀请已过期", "此邀请已过期，请联系邀请人重新发送。"),
    },
    "en": {
        LinkState.used: (
            "Already accepted",
            "This invitation was already accepted; each link works once. Please sign in.",
        ),
        LinkState.revoked: (
            "Invitation withdrawn",
            "This invitation was withdrawn; ask the person who invited you.",
        ),
        LinkState.expired: (
            "Invitation expired",
            "This invitation has expired; ask for a new one.",
        ),
    },
}
INVALID = (
    "链接无效 / Link not valid",
    "此链接无效或已被修改，请使用邮件中的完整链接。"
    " This link is not valid or was altered; please use the full link from the e-mail.",
)


def _notice(opened: Opened, state: LinkState) -> Response:
    if state is LinkState.invalid:
        return page("zh", INVALID[0], INVALID[1], status=404)
    title, message = NOTICES[opened.locale][state]
    return page(opened.locale, title, message, status=STATUS[state])


def _form(
    opened: Opened,
    *,
    status: int = 200,
    name: str = "",
    errors: dict[str, list[str]] | None = None,
) -> Response:
    lang = opened.locale
    t = TEXT[lang]
    role = ROLES[lang].get(opened.role.value if opened.role else "", "")
    facts = {"company": opened.company, "role": role, "email": opened.email}
    fields = (
        []
        if opened.has_account
        else [
            Field("name", t["name"], value=name or opened.name),
            Field("password", t["password"], kind="password"),
        ]
    )
    return page(
        lang,
        t["title"].format(**facts),
        t["existing" if opened.has_account else "new"].format(**facts),
        status=status,
        form=Form(button=t["join"], fields=fields),
        errors=errors,
    )


class InvitePages(TokenPages):
    path = PATH

    async def serve(self, request: Request, token: str, app: AppState) -> Response:
        db = app.db
        opened = await invitations.open_link(db, token)
        if opened.state is not LinkState.open:
            return _notice(opened, opened.state)
        if request.method == "GET":
            return _form(opened)
        form = await read_form(request)
        if form is None:
            return page(opened.locale, TOO_LARGE, status=413)
        name = form.get("name", "")
        try:
            await invitations.accept(
                db,
                token=token,
                name=name,
                password=form.get("password", ""),
                verify_existing=False,
                ip=request.client.host if request.client else None,
            )
        except InvitationUnusable as exc:
            return _notice(opened, exc.state)
        except DomainError as exc:
            by_field: dict[str, list[str]] = {}
            for e in exc.errors:
                by_field.setdefault(e.field or "", []).append(e.message)
            return _form(opened, status=422, name=name, errors=by_field)
        t = TEXT[opened.locale]
        facts = {"company": opened.company, "email": opened.email}
        return page(opened.locale, t["done_title"].format(**facts), t["done"].format(**facts))
