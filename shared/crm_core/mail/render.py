"""Mail templates: Jinja2, one text and one HTML file per template and language (zh, en).

``templates/<locale>/<name>.txt``: the first line is ``Subject: …``, the rest the text body.
``templates/<locale>/<name>.html``: the HTML body; it extends ``_layout.html`` (branding).
HTML is autoescaped; missing variables raise (a typo must not send a mail with a hole in it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).parent / "templates"
LOCALES = ("zh", "en")
TEMPLATES = frozenset(
    {
        "followup_due",
        "followup_overdue",
        "complaint_assigned",
        "complaint_sla",
        "contract_expiring",
        "delivery_due",
        "password_reset",
        "job_ended",
        "survey_invitation",
        "survey_reminder",
        "user_invitation",
        "visit_planned",
    }
)


def locale_of(tag: str | None) -> str:
    """``zh-CN`` → ``zh``; anything not Chinese → ``en``."""
    return "zh" if (tag or "").lower().startswith("zh") else "en"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@functools.cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


UNSUBSCRIBE_TEXT = {
    "zh": "不想再收到此类通知？退订：",
    "en": "Stop these notifications: ",
}


def render(
    template: str,
    locale: str,
    context: dict[str, Any],
    brand: dict[str, Any],
    *,
    unsubscribe: str | None = None,
) -> Rendered:
    """``unsubscribe``: the link a notification's footer carries (None for transactional mail)."""
    if template not in TEMPLATES:
        raise LookupError(f"no mail template {template!r}")
    lang = locale_of(locale)
    values = {**context, "brand": brand, "lang": lang, "unsubscribe": unsubscribe}
    env = _env()
    text = env.get_template(f"{lang}/{template}.txt").render(values)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"{lang}/{template}.txt must start with a Subject: line")
    html = env.get_template(f"{lang}/{template}.html").render(values)
    footer = str(brand.get("footer") or "")
    if unsubscribe:
        footer = (footer + "\n" if footer else "") + UNSUBSCRIBE_TEXT[lang] + unsubscribe
    return Rendered(
        subject=first.removeprefix("Subject:").strip(),
        text=body.strip() + ("\n\n-- \n" + footer if footer else "") + "\n",
        html=html,
    )
