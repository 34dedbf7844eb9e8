"""Text search on a maintained ``search_text`` column (names, pinyin, phone digits, e-mail).

Each word of the query must occur in the text; the GIN trigram index serves ``ILIKE '%word%'``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, and_

from crm_core.errors import DomainError, ErrorCode

MAX_QUERY = 100
_PHONEISH = re.compile(r"^[\d\s()+\-.]{5,}$")


def search_terms(query: str) -> list[str]:
    query = query.strip().lower()
    if len(query) > MAX_QUERY:
        raise DomainError.one(
            "search", ErrorCode.TOO_LONG, f"search at most {MAX_QUERY} characters"
        )
    if _PHONEISH.fullmatch(query):
        digits = re.sub(r"\D", "", query)
        return [
            digits.removeprefix("86") if digits.startswith("86") and len(digits) > 11 else digits
        ]
    return [t for t in query.split() if t][:8]


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_predicate(column: Any, query: str) -> ColumnElement[bool]:
    terms = search_terms(query)
    return and_(*(column.ilike(f"%{_escape(t)}%", escape="\\") for t in terms))
