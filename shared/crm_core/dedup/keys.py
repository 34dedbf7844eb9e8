"""Blocking keys and comparable forms of a record: what two records of the same party share even
when they are typed differently.

A key is ``<type>:<value>``: ``p:`` an E.164 phone, ``e:`` an e-mail address, ``n:`` a name key
(pinyin, order-free; ``crm_core.cleansing.search_keys.name_keys``), ``c:`` a company's core name
(legal form, group words, bracketed and leading place names removed), ``k:`` the core without its
trade word (科技, 贸易, Technology…), ``x:`` the tax id's blind index, ``w:`` a website's domain.
Records that share a key form a block; only pairs inside a block are ever scored, and a key
carried by too many records (a common name, a shared switchboard) is dropped from blocking, so the
number of pairs grows with the number of records, not with its square.

Pure functions: the customer service calls ``customer_keys`` on every write.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from crm_core.cleansing.search_keys import name_keys
from crm_core.cleansing.text import _han, clean_text

# Longest first: "股份有限公司" before "有限公司" before "公司".
_ZH_LEGAL = (
    "股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "集团公司",
    "分公司", "总公司", "控股集团", "集团", "公司", "商行", "工作室", "门市部", "经营部",
    "事务所",
)  # fmt: skip
# Trade words: a company is often named without them ("星辰科技" / "星辰"), and two companies
# differing only in them are often distinct; so they are a separate, weaker key.
_ZH_TRADE = (
    "科技发展", "信息技术", "网络科技", "电子商务", "科技", "技术", "贸易", "实业", "发展",
    "电子", "网络", "信息", "咨询", "商贸", "投资", "管理", "服务", "工程", "建设", "文化",
    "传媒", "制造", "机械", "医药", "食品", "物流", "软件", "智能", "新材料", "材料", "能源",
    "设备", "进出口", "国际", "控股", "股份",
)  # fmt: skip
_EN_LEGAL = frozenset(
    [
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "llp",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "sarl",
        "bv",
        "nv",
        "pte",
        "pty",
        "srl",
        "spa",
        "kk",
        "oy",
        "ab",
        "as",
        "group",
        "holding",
        "holdings",
        "the",
    ]
)
_EN_TRADE = frozenset(
    [
        "technology",
        "technologies",
        "tech",
        "trading",
        "industrial",
        "industries",
        "international",
        "intl",
        "services",
        "service",
        "solutions",
        "consulting",
        "systems",
        "software",
        "electronics",
        "logistics",
    ]
)
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]{1,12}[)）\]】]")
_NON_WORD = re.compile(r"[^\w]+")
MIN_KEY = 4  # shorter keys (initials, "ab") block far too much


@dataclass(frozen=True, slots=True)
class NameForms:
    """The forms of a name that comparisons use."""

    text: str  # cleaned, lower-case
    core: str  # legal form, group word and leading places removed (companies); = text for people
    latin: str  # the core as letters: pinyin for Han text, letters and digits otherwise
    words: tuple[str, ...]  # latin words of the core, for token comparisons
    keys: tuple[str, ...]  # name keys of the core (pinyin, order-free)
    trade_free: str  # the core without trade words (may equal core)


def _pinyin_words(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s]


def _latin_words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
    )
    return kept.split()


@functools.cache
def _place_prefixes() -> tuple[frozenset[str], int]:
    """Province and prefecture names, full and short ("北京市", "北京", "深圳"), from the
    gazetteer the address splitter uses."""
    from crm_core.cleansing.addresses import _gazetteer

    gazetteer = _gazetteer()
    names = frozenset(
        text
        for text, divisions in gazetteer.names.items()
        if len(text) >= 2 and any(d.level <= 1 for d, _ in divisions)
    )
    return names, max(map(len, names))


def _strip_places(text: str) -> str:
    names, longest = _place_prefixes()
    for _ in range(3):  # "广东省深圳市…"
        for size in range(min(longest, len(text) - 2), 1, -1):
            if text[:size] in names:
                text = text[size:]
                break
        else:
            break
    return text


def _strip_suffixes(text: str, suffixes: Iterable[str]) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text, changed = text[: -len(suffix)], True
    return text


def company_core(name: str) -> str:
    """北京星辰科技有限公司 → 星辰科技; "Starlight Technology Co., Ltd." → "starlight technology"."""
    text = (clean_text(name) or "").lower()
    text = _BRACKETED.sub("", text).strip()
    if _han().search(text):
        text = _NON_WORD.sub("", text)
        text = _strip_suffixes(text, _ZH_LEGAL)
        stripped = _strip_places(text)
        # Keep the place when nothing meaningful would remain ("北京公司" is its whole name).
        return stripped if len(stripped) >= 2 else text
    words = [w for w in _latin_words(text) if w not in _EN_LEGAL]
    return " ".join(words) or text


def _trade_free(core: str) -> str:
    if _han().search(core):
        return _strip_suffixes(core, _ZH_TRADE)
    words = [w for w in core.split() if w not in _EN_TRADE]
    return " ".join(words) or core


@functools.lru_cache(maxsize=200_000)  # names repeat (张伟): pinyin is the costly part
def name_forms(name: str | None, *, company: bool) -> NameForms:
    text = (clean_text(name) or "").lower()
    core = company_core(text) if company else text
    if _han().search(core):
        words = tuple(_pinyin_words(core) + _latin_words(_han().sub(" ", core)))
    else:
        words = tuple(_latin_words(core))
    initials = "".join(w[0] for w in words)
    # Initials ("zw" for 张伟) are far too common to block on.
    keys = tuple(k for k in name_keys(core) if len(k) >= MIN_KEY and k != initials) if core else ()
    return NameForms(
        text=text,
        core=core,
        latin="".join(words),
        words=words,
        keys=keys,
        trade_free=_trade_free(core) if company else core,
    )


def email_key(email: str | None) -> str | None:
    return email.strip().lower() if email and "@" in email else None


def website_domain(website: str | None) -> str | None:
    if not website:
        return None
    text = website.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0].split(":")[0]
    text = text.removeprefix("www.")
    return text if "." in text else None


def phone_key(e164: str | None) -> str | None:
    return e164 if e164 and e164.startswith("+") else None


def record_keys(
    *,
    name: str | None,
    company: bool,
    phones: Iterable[str | None] = (),
    emails: Iterable[str | None] = (),
    website: str | None = None,
    tax_index: bytes | None = None,
    company_name: str | None = None,
) -> list[str]:
    """Every blocking key of one record, de-duplicated, in a stable order."""
    keys: dict[str, None] = {}
    for phone in phones:
        if p := phone_key(phone):
            keys[f"p:{p}"] = None
    for email in emails:
        if e := email_key(email):
            keys[f"e:{e}"] = None
    forms = name_forms(name, company=company)
    if not company:  # a company's name is keyed by its core below
        for k in forms.keys:
            keys[f"n:{k}"] = None
    companies = [forms] if company else []
    if company_name:
        companies.append(name_forms(company_name, company=True))
    for f in companies:
        if len(f.latin) >= MIN_KEY:
            keys[f"c:{f.latin}"] = None
        trade_free = name_forms(f.trade_free, company=False).latin
        if len(trade_free) >= MIN_KEY and trade_free != f.latin:
            keys[f"k:{trade_free}"] = None
    if d := website_domain(website):
        keys[f"w:{d}"] = None
    if tax_index:
        keys[f"x:{tax_index.hex()}"] = None
    return list(keys)


def customer_keys(customer: object) -> list[str]:
    """The keys of a customer row (anything with the customer's attributes)."""
    return record_keys(
        name=getattr(customer, "name", None),
        company=str(getattr(customer, "kind", "company")) == "company",
        phones=[getattr(customer, "phone", None)],
        emails=[getattr(customer, "email", None)],
        website=getattr(customer, "website", None),
        tax_index=getattr(customer, "tax_id_index", None),
    )
