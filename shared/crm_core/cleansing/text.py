"""Text cleaning: one-line and multi-line text with width folded, invisible characters removed and
whitespace collapsed; also the CJK and Han character tests the other normalisers share.

NFKC folds full-width letters, digits and ASCII punctuation, the ideographic space, half-width
katakana, ligatures and compatibility ideographs. It would also turn the full-width Chinese
punctuation ，！？：；（）～ into ASCII, which a Chinese reader sees as a typo ("张伟（销售部）"
becoming "张伟(销售部)"), so those keep their full-width form when the nearest non-space
character on either side is CJK, and become ASCII otherwise ("９：００～１８：００" gives
"9:00~18:00"). 、。「」【】 are not compatibility characters and NFKC leaves them alone.
Accepted side effect: NFKC also folds superscripts and circled digits ("m²" gives "m2").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

# Format (zero-width, bidi, BOM, soft hyphen), control and lone surrogates: invisible, and they
# break equality and search. Whitespace controls (tab, newline) are kept for the whitespace pass.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_CHINESE_FULLWIDTH_PUNCT = frozenset("，！？：；（）～")
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_CJK_RANGES = f"\u3001-\u303f\u3040-\u30ff\u3100-\u312f\uac00-\ud7af{_HAN_RANGES}"


# Compiled on first use: these wide character classes take milliseconds to compile, which the
# web process should not pay at import.
@functools.cache
def _cjk() -> re.Pattern[str]:
    return re.compile(f"[{_CJK_RANGES}]")


@functools.cache
def _han() -> re.Pattern[str]:
    return re.compile(f"[{_HAN_RANGES}]")


_MANY_NEWLINES = re.compile(r"\n{3,}")


def _drop_invisible(value: str) -> str:
    return "".join(
        ch for ch in value if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
    )


def _nearest_is_cjk(chars: Sequence[str], index: int, step: int) -> bool:
    i = index + step
    while 0 <= i < len(chars) and chars[i].isspace():
        i += step
    return 0 <= i < len(chars) and _cjk().match(chars[i]) is not None


def _fold_width(value: str) -> str:
    # NFKC runs on the stretches between candidate punctuation marks; those marks are starters
    # that never compose, so this equals NFKC of the whole string except for them.
    chars: list[str] = []
    candidates: list[int] = []
    start = 0
    for i, ch in enumerate(value):
        if ch in _CHINESE_FULLWIDTH_PUNCT:
            chars.extend(unicodedata.normalize("NFKC", value[start:i]))
            candidates.append(len(chars))
            chars.append(ch)
            start = i + 1
    chars.extend(unicodedata.normalize("NFKC", value[start:]))
    # Decide on the already folded neighbours, so a second pass sees what the first one saw.
    for i in candidates:
        if not (_nearest_is_cjk(chars, i, -1) or _nearest_is_cjk(chars, i, 1)):
            chars[i] = unicodedata.normalize("NFKC", chars[i])
    return "".join(chars)


def clean_text(value: str | None) -> str | None:
    """One-line text: width folded, invisible characters removed, whitespace collapsed."""
    if value is None:
        return None
    return " ".join(_fold_width(_drop_invisible(value)).split()) or None


def clean_multiline(value: str | None) -> str | None:
    """Like ``clean_text`` but keeps line breaks, and at most one blank line in a row."""
    if value is None:
        return None
    lines = (" ".join(line.split()) for line in _fold_width(_drop_invisible(value)).splitlines())
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines).strip("\n")) or None
