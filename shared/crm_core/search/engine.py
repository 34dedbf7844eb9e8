"""Global search across customers, contacts and leads, ranked, in one SQL statement.

A record matches when every word of the query occurs in its search text (names, company names,
pinyin of Chinese text with its initials, phone digits, e-mail — see
``crm_core.cleansing.search_keys.search_text``) or when the query is close to a word run of it
(pg_trgm ``word_similarity``, served by the same trigram GIN index) so a typo still finds it.
Chinese queries are also matched through their pinyin, so 张卫 finds 张伟.

Ranking: an exact name first, then a name starting with the query, then every word present, then
the trigram closeness. Masked viewers search only text without phones and e-mails, so a search
cannot confirm a personal value they may not see.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.cleansing.search_keys import _pinyin
from crm_core.cleansing.text import _han
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate, search_terms

MAX_HITS = 50
# word_similarity threshold for the fuzzy branch: 0.5 keeps one-letter typos in short names and
# drops unrelated records that share a trigram or two.
FUZZY_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Source:
    """One searchable table: how to read its title, its two search texts and its visibility."""

    kind: str
    model: Any
    title: Any
    text: Any
    public: Any
    visible: Callable[[DataScope | None], ColumnElement[bool]]
    live: Callable[[], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str
    id: uuid.UUID
    score: float


def fuzzy_form(query: str) -> str:
    """What the trigram branch compares: the lower-cased query, or for Chinese its pinyin."""
    text = query.strip().lower()
    if _han().search(text):
        syllables = _pinyin(text)
        if syllables:
            return " ".join(syllables)
    return text


def _branch(source: Source, query: str, scope: DataScope | None, personal: bool) -> Any:
    column = source.text if personal else source.public
    fuzzy = fuzzy_form(query)
    lowered = query.strip().lower()
    title = func.lower(source.title)
    every_word = search_predicate(column, query)
    closeness = func.word_similarity(fuzzy, column)
    score = (
        case((title == lowered, 3.0), else_=0.0)
        + case((title.startswith(lowered, autoescape=True), 1.0), else_=0.0)
        + case((every_word, 1.0), else_=0.0)
        + closeness
    )
    return (
        select(
            literal(source.kind).label("kind"),
            source.model.id.label("id"),
            score.cast(Float).label("score"),
        )
        .where(source.live(), source.visible(scope), or_(every_word, column.op("%>")(fuzzy)))
        .order_by(score.desc())
        .limit(MAX_HITS)
    )


async def search(
    session: AsyncSession,
    sources: Sequence[Source],
    query: str,
    *,
    scope: DataScope | None,
    personal_data: bool,
    limit: int = 10,
) -> list[Hit]:
    if not search_terms(query):
        raise DomainError.one("query", ErrorCode.REQUIRED, "type something to search for")
    if not 1 <= limit <= MAX_HITS:
        raise DomainError.one("first", ErrorCode.INVALID, f"between 1 and {MAX_HITS}")
    if not sources:
        return []
    # The ``%>`` operator reads its threshold from the session; LOCAL ends with the transaction.
    await session.execute(
        select(func.set_config("pg_trgm.word_similarity_threshold", str(FUZZY_THRESHOLD), True))
    )
    branches = [_branch(s, query, scope, personal_data).subquery().select() for s in sources]
    merged = union_all(*branches).subquery()
    stmt = (
        select(merged.c.kind, merged.c.id, merged.c.score)
        .order_by(merged.c.score.desc(), merged.c.kind, merged.c.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [Hit(kind=r.kind, id=r.id, score=round(float(r.score), 4)) for r in rows]
