"""E-mail addresses: a syntax check without DNS that keeps the local part as typed and normalises
the domain, and the masked form used in messages and the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm_core.cleansing.issues import Issue
from crm_core.cleansing.text import clean_text


@dataclass(frozen=True, slots=True)
class EmailResult:
    normalized: str | None
    issue: Issue | None


INVALID_EMAIL = "INVALID_EMAIL"


def mask_email(value: str) -> str:
    """``zhang.wei@example.com`` → ``z***@example.com``."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return f"{text[:1]}***"
    if len(domain) > 64:
        domain = f"{domain[:61]}..."
    return f"{local[:1]}***@{domain}"


def normalize_email(raw: str, *, field: str = "email") -> EmailResult:
    """Syntax check without DNS; local part kept as typed, domain lower-cased and IDNA-normalised."""
    from email_validator import EmailNotValidError, validate_email

    text = clean_text(raw)
    if text is None:
        return EmailResult(None, Issue(field, INVALID_EMAIL, "e-mail address is empty"))
    # Spaces beside "@" or "." ("wang @ qq .com") are a typing slip; a space inside a word
    # ("zhang wei@…") is ambiguous and stays an error for a person to decide.
    text = re.sub(r"\s*([@.])\s*", r"\1", text)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        # The library's reasons name the problem, never the whole address.
        message = f"e-mail address {mask_email(text)} is not valid: {exc}"
        return EmailResult(None, Issue(field, INVALID_EMAIL, message))
    return EmailResult(result.normalized, None)
