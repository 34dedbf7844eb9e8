"""Deterministic demo customers and their contacts, as input to the service layer.

Every customer ``index`` (below 2**40) is drawn from a ``random.Random`` seeded with
``(seed, index)``, so customer ``i`` is the same whatever ``start``/``count`` a caller asks for
and slices can be generated in parallel. Nothing calls Faker or reads the clock: the word and place tables live
in :mod:`crm_core.demo.data`.

Raw phone numbers are meant to be parsed with ``phonenumbers`` and default region
:data:`PHONE_REGION` ("CN"); every non-Chinese number carries its ``+<country code>``.
"""

from __future__ import annotations

import enum
import random
import uuid
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import Any, Generic, TypeAlias, TypeVar

from crm_core.contacts.models import ContactChannel
from crm_core.customers.models import (
    AreaType,
    CreditRating,
    CustomerGrade,
    CustomerSource,
    Gender,
    IncomeBand,
    LifecycleStage,
    PaymentHabit,
    ServiceMode,
)
from crm_core.demo import data as d

PHONE_REGION = "CN"

# In this order in every customer dict.
CUSTOMER_KEYS: tuple[str, ...] = d.words(
    "code name kind industry grade tags lifecycle_stage source owner_id phone email website "
    "address_line country province city district street postal_code credit_rating "
    "payment_habit preferred_products purchase_frequency preferred_service_mode gender "
    "birth_date area_type income_band important_dates do_not_visit distance_km notes"
)
CONTACT_KEYS: tuple[str, ...] = d.words(
    "name title department phones emails social_accounts is_primary preferred_channel "
    "preferred_time birthday notes"
)


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    """One customer and its contacts; every dict holds exactly the documented keys.

    ``invalid`` names the values made unusable on purpose (a phone no parser accepts, an
    e-mail with ``@@``): paths like ``"phone"``, ``"email"``, ``"contacts.1.phones.0"``.
    ``noisy`` names the values given stray whitespace or full-width characters, which a
    cleansing pass should be able to repair.
    """

    customer: dict[str, Any]
    contacts: list[dict[str, Any]]
    invalid: frozenset[str] = frozenset()
    noisy: frozenset[str] = frozenset()
    # Written in English (a customer abroad); its records are too.
    english: bool = False


def customer_code(index: int) -> str:
    """The code of the customer at ``index`` (0-based): ``C-000001`` for 0."""
    return f"C-{index + 1:06d}"


_T = TypeVar("_T")


class _Weighted(Generic[_T]):
    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[_T, float]]) -> None:
        self.items = tuple(item for item, _ in pairs)
        self.cum = list(accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> _T:
        return self.items[bisect(self.cum, rng.random() * self.total)]


def _values(enum_type: type[enum.StrEnum], weights: Sequence[float]) -> _Weighted[str]:
    """Weights in the order the enum declares its members (fails at import if they change)."""
    return _Weighted([(m.value, w) for m, w in zip(enum_type, weights, strict=True)])


_SURNAMES = _Weighted([(s, 1.0 / (rank + 4)) for rank, s in enumerate(d.SURNAMES)])
_GRADES = _values(CustomerGrade, (5, 15, 35, 30, 15))  # few A
_STAGES = _values(LifecycleStage, (15, 20, 25, 15, 10, 8))
_SOURCES = _values(CustomerSource, (20, 18, 14, 10, 8, 10, 10, 5, 5))
_CREDIT = _values(CreditRating, (5, 15, 35, 30, 15))
_PAYMENT = _values(PaymentHabit, (15, 50, 25, 10))
_SERVICE = _values(ServiceMode, (25, 25, 25, 15, 10))
_INCOME = _values(IncomeBand, (15, 25, 30, 20, 10))
# phone, mobile, email, wechat, sms, visit, other
_CHANNEL_ZH = _values(ContactChannel, (15, 25, 10, 40, 5, 5, 0))
_CHANNEL_EN = _values(ContactChannel, (25, 20, 50, 0, 0, 0, 5))
_CONTACT_COUNT = {
    True: _Weighted([(0, 5), (1, 35), (2, 30), (3, 20), (4, 10)]),  # company
    False: _Weighted([(0, 70), (1, 25), (2, 5)]),  # individual
}
_WEST = _Weighted(
    [(c, 3 if c.country == "US" else 2 if c.country == "GB" else 6) for c in d.WEST_CITIES]
)
_GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_FULLWIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)} | {0x20: 0x3000}
_Place: TypeAlias = d.CnCity | d.WestCity
_NOISY_FIELDS = ("name", "phone", "street", "address_line", "city", "website")


class _Builder:
    """Builds one customer at a time; one Random, re-seeded per index."""

    def __init__(self, seed: int, owner_ids: tuple[uuid.UUID, ...]) -> None:
        self.rng = random.Random()
        self.base = (seed % (1 << 64)) << 40
        self.owner_ids = owner_ids
        self.invalid: list[str] = []
        self.noisy: list[str] = []

    def digits(self, n: int) -> str:
        return f"{self.rng.randrange(10**n):0{n}d}"

    def day(self, first_year: int, last_year: int) -> str:
        lo, hi = date(first_year, 1, 1).toordinal(), date(last_year, 12, 31).toordinal()
        return date.fromordinal(self.rng.randint(lo, hi)).isoformat()

    def noise(self, text: str, path: str) -> str:
        """Stray whitespace or full-width characters that a cleansing pass can undo."""
        rng, kind = self.rng, self.rng.randrange(5)
        self.noisy.append(path)
        if kind == 0 and (wide := text.translate(_FULLWIDTH)) != text:
            return wide
        if kind == 1 and " " in text:  # a doubled or odd space where there is one
            return text.replace(" ", rng.choice(("  ", "\u3000", "\u00a0")), 1)
        if kind == 2 and len(text) > 1 and not text.isascii():  # "张 伟", "深 圳市…"
            at = rng.randrange(1, min(len(text), 4))
            return f"{text[:at]} {text[at:]}"
        return rng.choice(d.PADDINGS).format(text)

    def person(self, en: bool, gender: str | None = None) -> tuple[str, str, str]:
        """(display name, family name and given name in latin letters)."""
        rng = self.rng
        female = gender == "female" if gender in ("female", "male") else rng.random() < 0.5
        if en:
            first, last = rng.choice(d.EN_FEMALE if female else d.EN_MALE), rng.choice(d.EN_LAST)
            return f"{first} {last}", last.lower(), first.lower()
        sur, sur_py = _SURNAMES.pick(rng)
        given, given_py = rng.choice(d.FEMALE_GIVEN if female else d.MALE_GIVEN)
        return sur + given, sur_py, given_py

    def mail_local(self, f: str, g: str) -> str:
        n, y = self.rng.randrange(1, 100), self.rng.randrange(60, 100)
        return self.rng.choice(d.MAIL_LOCALS).format(f=f, g=g, i=g[0], n=n, y=y)

    def email(self, local: str, domain: str, path: str) -> str:
        rng, r = self.rng, self.rng.random()
        if r >= 0.022:
            return f"{local}@{domain}"
        if r < 0.012:
            self.invalid.append(path)
            stem, comma = domain.split(".")[0], domain.replace(".", ",", 1)
            return rng.choice(d.BAD_EMAILS).format(l=local, d=domain, s=stem, c=comma)
        self.noisy.append(path)
        if rng.random() < 0.5:
            return f"{local}@{domain}".translate(_FULLWIDTH)
        return rng.choice(d.NOISY_EMAILS).format(l=local, d=domain)

    def phone(self, place: _Place, mobile: bool, path: str) -> str:
        rng = self.rng
        if isinstance(place, d.CnCity) and mobile:
            p, a, b = rng.choice(d.CN_MOBILE_PREFIXES), self.digits(4), self.digits(4)
            raw = rng.choice(d.CN_MOBILE_FORMATS).format(p=p, a=a, b=b)
        elif isinstance(place, d.CnCity):
            ac, local = place.area_code, str(rng.randint(2, 7)) + self.digits(place.local_len - 1)
            h, t = local[:-4], local[-4:]
            raw = rng.choice(d.CN_LANDLINE_FORMATS).format(ac=ac, n=ac[1:], l=local, h=h, t=t)
        elif place.country == "US":
            raw = rng.choice(d.WEST_PHONE_FORMATS["US"]).format(
                ac=place.area, x="01" + self.digits(2)
            )
        elif place.country == "GB":
            spaced = place.area + self.digits(3)
            raw = rng.choice(d.WEST_PHONE_FORMATS["GB"]).format(s=spaced, c=spaced.replace(" ", ""))
        else:
            h = rng.choice("89" if mobile else "6") + str(rng.randint(1, 5)) + self.digits(2)
            raw = rng.choice(d.WEST_PHONE_FORMATS["SG"]).format(h=h, t=self.digits(4))
        if rng.random() < 0.01:
            self.invalid.append(path)
            return rng.choice((raw[:-2], raw + "12", rng.choice(d.BAD_PHONES)))
        return raw

    def address(self, c: dict[str, Any], place: _Place) -> None:
        """Either the split fields or, about half the time, one line of text."""
        rng = self.rng
        one_line = rng.random() < 0.5
        if isinstance(place, d.CnCity):
            district = rng.choice(place.districts)
            street = f"{rng.choice(d.CN_ROADS)}{rng.randint(1, 999)}号"
            if rng.random() < 0.3:
                building, floor = rng.choice(d.CN_BUILDINGS), rng.randint(2, 32)
                street += f"{building}{floor}层{floor:d}{rng.randint(1, 20):02d}室"
            if one_line:
                head = "" if place.province == place.city else place.province
                c["address_line"] = f"{head}{place.city}{district}{street}"
                return
            postal = place.postal_prefix + self.digits(3) if rng.random() < 0.8 else None
            c.update(country="CN", province=place.province, city=place.city,
                     district=district, street=street, postal_code=postal)  # fmt: skip
            return
        country, region, prefix = place.country, place.region, rng.choice(place.postal)
        if country == "US":
            street = f"{rng.randint(10, 9999)} {rng.choice(d.US_STREETS)}"
            postal = f"{prefix}{rng.randint(1, 99):02d}"
            tail = f"{place.city}, {region} {postal}"
        elif country == "GB":
            street = f"{rng.randint(1, 250)} {rng.choice(d.GB_STREETS)}"
            postal = f"{prefix} {rng.randint(1, 9)}{''.join(rng.sample(_GB_LETTERS, 2))}"
            tail = f"{place.city} {postal}"
        else:
            street = f"{rng.randint(1, 400)} {rng.choice(d.SG_STREETS)}"
            if rng.random() < 0.6:
                street += f" #{rng.randint(2, 40):02d}-{rng.randint(1, 30):02d}"
            postal = prefix + self.digits(4)
            tail = f"Singapore {postal}"
        if one_line:
            c["address_line"] = f"{street}, {tail}, {d.COUNTRY_NAMES[country]}"
        else:
            c.update(country=country, province=region, city=place.city, street=street,
                     postal_code=postal)  # fmt: skip

    def contact(
        self, i: int, en: bool, company: bool, place: _Place, domain: str | None
    ) -> dict[str, Any]:
        rng, path = self.rng, f"contacts.{i}"
        name, family, given = self.person(en)
        title = department = None
        if company:
            row = rng.choice(d.TITLES)
            title, department = (row[2], row[3]) if en else (row[0], row[1])
        phones = []
        if rng.random() < 0.92:
            phones.append(
                {"label": "mobile", "number": self.phone(place, True, f"{path}.phones.0")}
            )
        if company and rng.random() < 0.4:
            number = self.phone(place, False, f"{path}.phones.{len(phones)}")
            phones.append({"label": "work", "number": number})
        emails = []
        if rng.random() < (0.75 if company else 0.4):
            host = rng.choice(d.FREE_MAIL[_country(place)])
            if domain and rng.random() < 0.85:
                host = domain
            address = self.email(self.mail_local(family, given), host, f"{path}.emails.0")
            emails.append({"label": "work", "address": address})
        social = []
        if en and rng.random() < 0.5:
            handle = f"{given}-{family}-{rng.randrange(16**6):06x}"
            social.append({"network": "linkedin", "handle": handle})
        if not en and rng.random() < 0.6:
            handle = rng.choice(
                (f"{family}{given}{rng.randrange(100)}", f"wxid_{rng.getrandbits(56):014x}")
            )
            social.append({"network": "wechat", "handle": handle})
        if not en and rng.random() < 0.2:
            social.append({"network": "qq", "handle": str(rng.randrange(10**5, 3 * 10**9))})
        if not en and company and rng.random() < 0.15:
            social.append({"network": "dingtalk", "handle": f"{family}{given}"})
        if rng.random() < 0.02:
            if phones and rng.random() < 0.5:
                phones[0]["number"] = self.noise(phones[0]["number"], f"{path}.phones.0")
            else:
                name = self.noise(name, f"{path}.name")
        channel = (_CHANNEL_EN if en else _CHANNEL_ZH).pick(rng) if rng.random() < 0.8 else None
        return {
            "name": name, "title": title, "department": department, "phones": phones,
            "emails": emails, "social_accounts": social, "is_primary": False,
            "preferred_channel": channel,
            "preferred_time": rng.choice(d.PREFERRED_TIMES)[en] if rng.random() < 0.5 else None,
            "birthday": self.day(1960, 2000) if rng.random() < 0.35 else None,
            "notes": rng.choice(d.CONTACT_NOTES)[en] if rng.random() < 0.25 else None,
        }  # fmt: skip

    def company_name(self, place: _Place, industry: d.Industry) -> tuple[str, str]:
        """(company name, web domain)."""
        rng = self.rng
        if isinstance(place, d.WestCity):
            brand, word = rng.choice(d.EN_BRANDS), rng.choice(industry.en_words)
            name = f"{brand} {word} {rng.choice(d.COMPANY_SUFFIXES[place.country])}"
            stem = rng.choice((brand, brand + word, f"{brand}-{word}")).lower()
            return name, f"{stem}.{rng.choice(d.WEB_TLDS[place.country])}"
        brand, brand_py = rng.choice(d.CN_BRANDS)
        word, word_py, short = rng.choice(industry.zh_words)
        city, r = place.short, rng.random()
        if r < 0.55:
            name = f"{city}市{brand}{word}有限公司"
        elif r < 0.7:
            name = f"{city}{brand}{word}有限公司"
        elif r < 0.82:
            name = f"{brand}{word}（{city}）有限公司"
        elif r < 0.93:
            name = f"{city}{brand}{word}股份有限公司"
        else:
            name = f"{brand}{word}集团有限公司"
        stem = rng.choice((brand_py, brand_py + word_py, f"{brand_py}-{short}"))
        return name, f"{stem}.{rng.choice(d.WEB_TLDS['CN'])}"

    def build(self, index: int) -> DemoCustomer:
        rng = self.rng
        rng.seed(self.base | index)
        self.invalid, self.noisy = [], []
        en, company = rng.random() < 0.2, rng.random() < 0.75
        place: _Place = _WEST.pick(rng) if en else rng.choice(d.CN_CITIES)
        country, industry = _country(place), rng.choice(d.INDUSTRIES)
        gender = birth_date = income = domain = None
        family = given = ""
        if company:
            name, domain = self.company_name(place, industry)
        else:
            r = rng.random()
            gender = (Gender.other if r < 0.01 else Gender.female if r < 0.5 else Gender.male).value
            name, family, given = self.person(en, gender)
            birth_date, income = self.day(1950, 2004), _INCOME.pick(rng)
        c: dict[str, Any] = dict.fromkeys(CUSTOMER_KEYS)
        c.update(
            code=customer_code(index), name=name, kind="company" if company else "individual",
            industry=(industry.en if en else industry.zh) if company else None,
            grade=_GRADES.pick(rng), lifecycle_stage=_STAGES.pick(rng), source=_SOURCES.pick(rng),
            tags=[t[en] for t in rng.sample(d.TAGS, rng.choice((0, 0, 1, 1, 2, 3)))],
            owner_id=self.owner_ids[index % len(self.owner_ids)] if self.owner_ids else None,
            credit_rating=_CREDIT.pick(rng) if company or rng.random() < 0.6 else None,
            payment_habit=_PAYMENT.pick(rng),
            preferred_products=[p[en] for p in rng.sample(d.PRODUCTS, rng.randint(0, 3))],
            purchase_frequency=rng.choice(d.FREQUENCIES)[en] if rng.random() < 0.8 else None,
            preferred_service_mode=_SERVICE.pick(rng),
            gender=gender, birth_date=birth_date, income_band=income,
            area_type=(AreaType.rural if rng.random() < 0.15 else AreaType.urban).value,
        )  # fmt: skip
        if rng.random() >= 0.01:  # 1% have none; phone() spoils another 1%
            c["phone"] = self.phone(place, not company or rng.random() < 0.4, "phone")
        if rng.random() < 0.88:
            if domain and rng.random() < 0.9:
                local, host = rng.choice(d.COMPANY_MAIL_USERS), domain
            elif domain:  # a small firm on a free-mail account: huateng_tech@163.com
                stem = domain.split(".")[0].replace("-", "_")
                local, host = f"{stem}{rng.randrange(100)}", rng.choice(d.FREE_MAIL[country])
            else:
                local, host = self.mail_local(family, given), rng.choice(d.FREE_MAIL[country])
                if host == "qq.com" and rng.random() < 0.5:
                    local = str(rng.randrange(10**5, 3 * 10**9))  # a QQ number
            c["email"] = self.email(local, host, "email")
        if domain and rng.random() < 0.85:
            c["website"] = rng.choice(d.WEBSITE_FORMATS).format(domain)
        self.address(c, place)
        dates = d.COMPANY_DATES if company else d.PERSON_DATES
        c["important_dates"] = [
            {"label": row[en], "date": self.day(row[2], row[3])}
            for row in rng.sample(dates, rng.choice((0, 0, 1, 1, 2)))
        ]
        c["do_not_visit"] = [
            {"weekday": w, "start": start, "end": end, "note": en_note if en else zh_note}
            for w, start, end, zh_note, en_note in rng.sample(d.DO_NOT_VISIT, rng.choice((0, 0, 1, 2)))
        ]  # fmt: skip
        if rng.random() < 0.75:
            rural = c["area_type"] == "rural"
            cents = rng.randint(2_000, 30_000) if rural else rng.randint(50, 5_000)
            c["distance_km"] = f"{cents // 100}.{cents % 100:02d}"
        if rng.random() < 0.4:
            c["notes"] = rng.choice(d.CUSTOMER_NOTES)[en]
        if rng.random() < 0.03:
            keys = [k for k in _NOISY_FIELDS if isinstance(c[k], str) and k not in self.invalid]
            key = rng.choice(keys)
            c[key] = self.noise(c[key], key)
        n = _CONTACT_COUNT[company].pick(rng)
        contacts = [self.contact(i, en, company, place, domain) for i in range(n)]
        if contacts:
            contacts[rng.randrange(n)]["is_primary"] = True
        return DemoCustomer(c, contacts, frozenset(self.invalid), frozenset(self.noisy), en)


def _country(place: _Place) -> str:
    return "CN" if isinstance(place, d.CnCity) else place.country


def generate_customers(
    count: int, *, seed: int = 42, owner_ids: Sequence[uuid.UUID] = (), start: int = 0
) -> Iterator[DemoCustomer]:
    """Yield ``count`` demo customers, indexes ``start`` .. ``start + count - 1``.

    Same ``seed`` and index, same customer (codes are ``customer_code(index)``, so unique).
    Owners are assigned round-robin by index; with no ``owner_ids`` every owner is None.
    """
    if count < 0 or start < 0:
        raise ValueError("count and start must not be negative")
    builder = _Builder(seed, tuple(owner_ids))
    for index in range(start, start + count):
        yield builder.build(index)
