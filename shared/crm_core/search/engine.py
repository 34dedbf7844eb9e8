"""Global search across customers, contacts and leads, ranked, in one SQL statement.

A record matches when every word of the query occurs in its search text (names, company names,
pinyin of Chinese text with its initials, phone digits, e-mail — see
``crm_core.cleansing.search_keys.search_text``). Chinese words of one or two characters are also
required in pinyin so the trigram index can serve them.

When nothing matches, the query is corrected word by word against the tenant's search
vocabulary (``crm_core.search.models``): a word the vocabulary lacks becomes a known word one
edit away (looked up by key among every such spelling), or for a long word the closest run of a
longer known word (trigram candidates, then the fewest edits). Chinese words become their pinyin
first, so "tainjinshi" finds 天津市 and 张卫 finds 张伟. The corrected words are then searched the
ordinary way. A typo thus costs a few look-ups in a table of distinct words, never a trigram
comparison with every record.

Ranking: an exact name first, then a name starting with the query, then every word present, then
the trigram closeness. Each way of matching considers a bounded number of candidates, so the cost
does not grow with the number of records a common name matches. Masked viewers search only text
without phones and e-mails, so a search cannot confirm a personal value they may not see (a word
corrected into an e-mail address then finds nothing in the text they search).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.cleansing.search_keys import _pinyin, is_pinyin_syllable
from crm_core.cleansing.text import _han
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate, search_terms
from crm_core.search.models import EMAIL, SearchWord

MAX_HITS = 50
# Records considered per kind and per way of matching before ranking: enough that the best
# matches of any sensible query are among them, few enough that ranking stays cheap whatever
# the size of the company.
CANDIDATES = 200
# Words up to this long are corrected by looking up every spelling one edit away.
MAX_EDITED = 24
# Word similarity a run of a longer vocabulary word needs (joined pinyin of a company name).
WITHIN = 0.45
# Candidates per query word compared by trigrams, among which the fewest edits wins.
CORRECTION_CANDIDATES = 8
# Shorter words are not corrected: a two-letter word has too many close neighbours.
MIN_CORRECTED = 3
# Runs inside longer words are looked for only for words this long (joined pinyin); a short word
# has a close run in too many words to be worth the trigram scan.
MIN_WITHIN = 6


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
    """Every word of the query in the text. A word of one or two letters has no trigram of its
    own, so the index could not serve it and every record holding the other words would be
    read: a Chinese word of one or two characters is also required in pinyin, and pinyin typed
    syllable by syllable ("jia he ke ji") is also required joined ("jiahekeji", which the text
    holds for every Chinese name), both of which the index serves; the words still decide."""
    conditions = [search_predicate(column, query)]
    words = query.lower().split()
    for word in words:
        if _han().search(word) and len(word) < 3 and (syllables := _pinyin(word)):
            conditions.append(search_predicate(column, "".join(syllables)))
    if (
        len(words) > 1
        and any(len(w) < 3 for w in words)
        and all(is_pinyin_syllable(w) for w in words)
    ):
        conditions.append(search_predicate(column, "".join(words)))
    return and_(*conditions)


def _candidates(source: Source, condition: Any, scope: DataScope | None) -> Any:
    """At most CANDIDATES ids meeting one condition, in no order: without an ORDER BY the scan
    stops as soon as it has them, so a common name costs the same as a rare one."""
    return (
        select(source.model.id.label("id"))
        .where(source.live(), source.visible(scope), condition)
        .limit(CANDIDATES)
    )


def _branch(source: Source, query: str, scope: DataScope | None, personal: bool) -> Any:
    """A bounded candidate set (every word present), then the ranking over those few hundred
    rows only."""
    column = source.text if personal else source.public
    close_to = fuzzy_form(query)
    lowered = query.strip().lower()
    title = func.lower(source.title)
    every_word = _every_word(column, query)
    candidates = _candidates(source, every_word, scope).subquery()
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
    limit: int,
) -> list[Hit]:
    branches = [_branch(s, query, scope, personal).subquery().select() for s in sources]
    merged = union_all(*branches).subquery()
    stmt = (
        select(merged.c.kind, merged.c.id, merged.c.score)
        .order_by(merged.c.score.desc(), merged.c.kind, merged.c.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [Hit(kind=r.kind, id=r.id, score=round(float(r.score), 4)) for r in rows]


async def corrected(session: AsyncSession, query: str) -> str | None:
    """The query with each word replaced by the closest word of the tenant's vocabulary, or
    None when no word changes (nothing better to search for).

    A word the vocabulary holds stays. Otherwise every spelling one edit away (a letter
    dropped, added, changed, or two neighbours swapped: a few hundred) is looked up by key, and
    the first found wins, swaps first. A long word with none of those is then compared by
    trigrams with the words holding a run like it (joined pinyin: "tainjinshi" in
    "tianjinshihongda…", whose run "tianjinshi" is kept), and the run fewest edits away wins if
    it is close enough to be a typo rather than another word."""
    words = fuzzy_form(query).split()[:8]
    looked_up = sorted({w for w in words if len(w) >= MIN_CORRECTED})
    if not looked_up:
        return None
    spellings = {w: one_edit(w) for w in looked_up if len(w) <= MAX_EDITED}
    wanted = sorted({v for w in looked_up for v in (w, *spellings.get(w, ()))})
    known = set(
        (await session.execute(select(SearchWord.word).where(SearchWord.word.in_(wanted))))
        .scalars()
        .all()
    )
    fixes: dict[str, str] = {}
    far = []
    for w in looked_up:
        if w in known:
            continue
        found = next((v for v in spellings.get(w, ()) if v in known), None)
        if found is not None:
            fixes[w] = found
        elif len(w) >= MIN_WITHIN:
            far.append(w)
    if far:
        # ``<%`` reads its threshold from the session; LOCAL ends with the transaction.
        await session.execute(
            select(func.set_config("pg_trgm.word_similarity_threshold", str(WITHIN), True))
        )
        word = SearchWord.word
        within = [
            select(literal(w).label("asked"), word)
            .where(literal(w).op("<%")(word), _kind_of(w))
            .order_by(literal(w).op("<<->")(word))
            .limit(CORRECTION_CANDIDATES)
            .subquery()
            .select()
            for w in far
        ]
        for asked, found_words in (await _lookup(session, within)).items():
            fixes[asked] = _closest(asked, found_words)
    fixed = " ".join(fixes.get(w, w) for w in words)
    return fixed if fixed != query.strip().lower() else None


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_IN_ADDRESSES = _LETTERS + "0123456789.-_"


def one_edit(word: str) -> list[str]:
    """Every spelling one edit from the word, most likely typos first: neighbours swapped, a
    letter changed, a letter dropped, a letter added (no repeats, not the word itself)."""
    letters = _IN_ADDRESSES if "@" in word else _LETTERS
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in cuts if len(b) > 1]
    changes = [a + c + b[1:] for a, b in cuts if b for c in letters if c != b[0]]
    drops = [a + b[1:] for a, b in cuts if b]
    adds = [a + c + b for a, b in cuts for c in letters]
    return [v for v in dict.fromkeys(swaps + changes + drops + adds) if v != word]


def _kind_of(asked: str) -> ColumnElement[bool]:
    """E-mail addresses are corrected into e-mail addresses, other words into other words: each
    kind has its own index, whose predicate is written out for the planner to match."""
    pattern: ColumnElement[str] = literal_column(f"'{EMAIL}'")
    if "@" in asked:
        return SearchWord.word.like(pattern)
    return SearchWord.word.not_like(pattern)


async def _lookup(session: AsyncSession, selects: list[Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for asked, word in (await session.execute(union_all(*selects))).all():
        found.setdefault(asked, []).append(word)
    return found


def _closest(word: str, candidates: list[str]) -> str:
    """The candidate, or the run of a longer one, fewest edits from the word (a swap of
    neighbours counting as one); ties keep the index's order, whole words before runs. None
    close enough: the word itself."""
    best, distance = word, max(2, len(word) // 3) + 1
    for candidate in candidates:
        pieces = [candidate]
        if len(candidate) > len(word):
            aligned = fuzz.partial_ratio_alignment(word, candidate)
            start = aligned.dest_start if aligned is not None else 0
            # The aligned run is as long as the word; a dropped or added letter shifts its end.
            pieces += [
                candidate[start : start + n] for n in (len(word) + 1, len(word), len(word) - 1)
            ]
        for piece in pieces:
            edits = DamerauLevenshtein.distance(word, piece)
            if edits < distance:
                best, distance = piece, edits
    return best


async def search(
    session: AsyncSession,
    sources: Sequence[Source],
    query: str,
    *,
    scope: DataScope | None,
    personal_data: bool,
    limit: int = 10,
) -> list[Hit]:
    """Records with every word; only when there are none, the records with every word of the
    corrected query (a typo, a homophone, a Chinese name typed in pinyin)."""
    if not search_terms(query):
        raise DomainError.one("query", ErrorCode.REQUIRED, "type something to search for")
    if not 1 <= limit <= MAX_HITS:
        raise DomainError.one("first", ErrorCode.INVALID, f"between 1 and {MAX_HITS}")
    if not sources:
        return []
    hits = await _ranked(session, sources, query, scope, personal_data, limit=limit)
    if hits:
        return hits
    fixed = await corrected(session, query)
    if fixed is None:
        return []
    return await _ranked(session, sources, fixed, scope, personal_data, limit=limit)
