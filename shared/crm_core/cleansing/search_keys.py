"""Search and dedup keys: the lower-cased trigram search text of a record (with pinyin of Chinese
text and phone digits) and the keys that find the same person written differently.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

from crm_core.cleansing.phones import _phone_digits
from crm_core.cleansing.text import _han, clean_text


def _pinyin(text: str) -> list[str]:
    return list(_pinyin_of(text))


@lru_cache(maxsize=8192)
def _pinyin_of(text: str) -> tuple[str, ...]:
    # Cached: the same places, company words and common names recur across a tenant's records.
    from pypinyin import Style, lazy_pinyin

    return tuple(s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s)


@cache
def _syllables() -> frozenset[str]:
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    toned = {p for v in pinyin_dict.values() for p in v.split(",")}  # 1,500 of 41,000 values
    return frozenset(to_normal(p) for p in toned)


def is_pinyin_syllable(word: str) -> bool:
    """Whether the word is one toneless pinyin syllable ("zhang", "he", "an"); the set of the
    roughly 430 syllables is built on first use (milliseconds, the dictionary being loaded)."""
    return word in _syllables()


def search_text(*values: str | None, default_region: str = "CN") -> str:
    """Lower-cased text for trigram search: the values, pinyin of Chinese text, phone digits."""
    parts: dict[str, None] = {}  # an ordered set: repeats only make the column longer
    for value in values:
        text = clean_text(value)
        if text is None:
            continue
        parts[text.lower()] = None
        if _han().search(text) and (syllables := _pinyin(text)):
            parts[" ".join(syllables)] = None
            parts["".join(syllables)] = None
            if len(syllables) > 1:
                parts["".join(s[0] for s in syllables)] = None
        for digits in _phone_digits(text, default_region.upper()):
            parts[digits] = None
    return " ".join(parts)


def _latin_words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
    )
    return kept.split()


def name_keys(name: str) -> list[str]:
    """Keys for finding duplicate people: full pinyin, initials, and an order-free key.

    Chinese names: "张伟" → ["zhangwei", "zw", "weizhang"]; the last one sorts surname and given
    name (first syllable / the rest), so it meets "Wei Zhang" and "Zhang Wei", whose keys
    (["weizhang", "wz"]) do not depend on the order of the two words.
    """
    text = clean_text(name)
    if text is None:
        return []
    keys: dict[str, None] = {}
    if _han().search(text):
        syllables = _pinyin(text) + _latin_words(_han().sub(" ", text))
        if not syllables:
            return []
        keys["".join(syllables)] = None
        if len(syllables) > 1:
            keys["".join(s[0] for s in syllables)] = None
            keys["".join(sorted((syllables[0], "".join(syllables[1:]))))] = None
        return list(keys)
    words = _latin_words(text)
    if len(words) == 2:
        words.sort()
    if words:
        keys["".join(words)] = None
    if len(words) > 1:
        keys["".join(w[0] for w in words)] = None
    return list(keys)
