"""Global search across customers, contacts and leads, ranked, in one SQL statement.

A record matches when every word of the query occurs in its search text (names, company names,
pinyin of Chinese text with its initials, phone digits, e-mail — see
``crm_core.cleansing.search_keys.search_text``) or when the query is close to a word run of it
(pg_trgm ``word_similarity``, served by the same trigram GIN index) so a typo still finds it.
Chinese queries are also matched through their pinyin, so 张卫 finds 张伟.

Ranking: an exact name first, then a name starting with the query, then every word present, then
the trigram closeness. Each way of matching considers a bounded number of candidates, so the cost
does not grow with the number of records a common name matches. Masked viewers search only text without phones and e-mails, so a search
cannot confirm a personal value they may not see.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.cleansing.search_keys import _pinyin
from crm_core.cleansing.text import _han
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate, search_terms

MAX_HITS = 50
# Records considered per kind and per way of matching before ranking: enough that the best
# matches of any sensible query are among them, few enough that ranking stays cheap whatever
# the size of the company.
CANDIDATES = 200
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


def _every_word(column: Any, query: str) -> ColumnElement[bool]:
    """Every word of the query in the text. A Chinese word of one or two characters has no
    trigram of its own, so the index could not serve it and the whole table would be read: its
    pinyin (also in the text) is required too, which the index serves; the characters still
    decide."""
    conditions = [search_predicate(column, query)]
    for word in query.split():
        if _han().search(word) and len(word) < 3 and (syllables := _pinyin(word)):
            conditions.append(search_predicate(column, "".join(syllables)))
    return and_(*conditions)


def _candidates(source: Source, condition: Any, scope: DataScope | None) -> Any:
    """At most CANDIDATES ids meeting one condition, in no order: without an ORDER BY the scan
    stops as soon as it has them, so a common name costs the same as a rare one."""
    return (
        select(source.model.id.label("id"))
        .where(source.live(), source.visible(scope), condition)
        .limit(CANDIDATES)
    )


def _branch(
    source: Source, query: str, scope: DataScope | None, personal: bool, *, fuzzy: bool
) -> Any:
    """A bounded candidate set (every word present, or trigram-close to the query), then the
    ranking over those few hundred rows only."""
    column = source.text if personal else source.public
    close_to = fuzzy_form(query)
    lowered = query.strip().lower()
    title = func.lower(source.title)
    every_word = _every_word(column, query)
    matching = column.op("%>")(close_to) if fuzzy else every_word
    candidates = _candidates(source, matching, scope).subquery()
    score = (
        case((title == lowered, 3.0), else_=0.0)
        + case((title.startswith(lowered, autoescape=True), 1.0), else_=0.0)
        + case((every_word, 1.0), else_=0.0)
        + func.word_similarity(close_to, column)
    )
    return (
        select(
            literal(source.kind).label("kind"),
            source.model.id.label("id"),
            score.cast(Float).label("score"),
        )
        .join(candidates, candidates.c.id == source.model.id)
        .order_by(score.desc())
        .limit(MAX_HITS)
    )


async def _ranked(
    session: AsyncSession,
    sources: Sequence[Source],
    query: str,
    scope: DataScope | None,
    personal: bool,
    *,
    fuzzy: bool,
    limit: int,
) -> list[Hit]:
    branches = [
        _branch(s, query, scope, personal, fuzzy=fuzzy).subquery().select() for s in sources
    ]
    merged = union_all(*branches).subquery()
    stmt = (
        select(merged.c.kind, merged.c.id, merged.c.score)
        .order_by(merged.c.score.desc(), merged.c.kind, merged.c.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [Hit(kind=r.kind, id=r.id, score=round(float(r.score), 4)) for r in rows]


async def search(
    session: AsyncSession,
    sources: Sequence[Source],
    query: str,
    *,
    scope: DataScope | None,
    personal_data: bool,
    limit: int = 10,
) -> list[Hit]:
    """Records with every word; only when there are none, the trigram-close ones (a typo, a
    homophone): the costlier fuzzy pass runs only when the plain one found nothing."""
    if not search_terms(query):
        raise DomainError.one("query", ErrorCode.REQUIRED, "type something to search for")
    if not 1 <= limit <= MAX_HITS:
        raise DomainError.one("first", ErrorCode.INVALID, f"between 1 and {MAX_HITS}")
    if not sources:
        return []
    hits = await _ranked(session, sources, query, scope, personal_data, fuzzy=False, limit=limit)
    if hits:
        return hits
    # The ``%>`` operator reads its threshold from the session; LOCAL ends with the transaction.
    await session.execute(
        select(func.set_config("pg_trgm.word_similarity_threshold", str(FUZZY_THRESHOLD), True))
    )
    close = await _ranked(session, sources, query, scope, personal_data, fuzzy=True, limit=limit)
    seen = {(h.kind, h.id) for h in hits}
    extra = [h for h in close if (h.kind, h.id) not in seen]
    return sorted(hits + extra, key=lambda h: (-h.score, h.kind, str(h.id)))[:limit]
