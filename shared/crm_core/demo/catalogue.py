"""The demo company's own data, not tied to one customer: its product catalogue, tags, saved
segments, relationship criteria, survey templates, leads and marketing activities.

Deterministic like the customers: a fixed seed, no clock except the ``today`` a caller passes.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from crm_core.demo import data as d
from crm_core.demo import sales_data as s
from crm_core.demo.generate import DemoCustomer, generate_customers

CENT = Decimal("0.01")
TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
# Leads are drawn like customers, from indexes no customer uses.
LEAD_BASE = 1 << 36
ACTIVITY_BASE = 1 << 37


@dataclass(frozen=True, slots=True)
class DemoProduct:
    code: str
    name: str
    category: str
    unit: str
    unit_price: Decimal
    cost: Decimal
    active: bool

    def fields(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "category": self.category,
                "unit": self.unit, "unit_price": self.unit_price, "cost": self.cost,
                "active": self.active}  # fmt: skip


def _price(rng: random.Random, lo: int, hi: int) -> Decimal:
    """A shop price: 899, 1280, 25800 …"""
    raw = rng.uniform(lo, hi)
    step = 10 if raw < 1_000 else 100
    value = max(int(raw / step) * step, step)
    return Decimal(value - 1 if rng.random() < 0.4 and value > 100 else value).quantize(CENT)


def generate_products(seed: int = 42) -> list[DemoProduct]:
    """Sixty products, six a category (the last of two categories retired: inactive)."""
    rng = random.Random(seed * 7919 + 60)
    out = []
    for c, line in enumerate(s.CATALOGUE):
        for k, name in enumerate(line.models):
            price = _price(rng, *line.price_range)
            cost = (price * Decimal(str(1 - rng.uniform(*line.margin)))).quantize(CENT)
            out.append(DemoProduct(f"{line.code}-{k + 1:03d}", name, line.category, line.unit,
                                   price, cost, not (k == 5 and c in (2, 7))))  # fmt: skip
    return out


def products_for(
    products: list[DemoProduct], preferred: list[str], rng: random.Random
) -> list[int]:
    """Indexes of active products a customer would buy: of its preferred kinds, else of one
    kind drawn at random (a customer's ``preferred_products`` hold data.PRODUCTS names)."""
    kinds = {zh for zh, en in d.PRODUCTS if zh in preferred or en in preferred}
    if not kinds:
        kinds = {rng.choice(d.PRODUCTS)[0]}
    return [i for i, p in enumerate(products) if p.active and p.category in kinds]


def tags() -> list[dict[str, Any]]:
    """The catalogue of every tag the customers carry, in Chinese and in English."""
    out = []
    for (zh, en), color, (cat_zh, cat_en) in zip(
        d.TAGS, s.TAG_COLORS, s.TAG_CATEGORIES, strict=True
    ):
        out.append({"name": zh, "color": color, "category": cat_zh})
        if en != zh:
            out.append({"name": en, "color": color, "category": cat_en})
    return out


def segments() -> list[dict[str, Any]]:
    return [{"name": n, "description": desc, "filter": spec, "shared": True}
            for n, desc, spec in s.SEGMENTS]  # fmt: skip


def criteria() -> list[dict[str, Any]]:
    return [{"name": n, "weight": Decimal(w), "description": desc, "position": i}
            for i, (n, w, desc) in enumerate(s.CRITERIA)]  # fmt: skip


def survey_templates() -> list[dict[str, Any]]:
    return [{"name": n, "kind": kind, "trigger": trigger, "period_days": days,
             "language": lang, "active": active, "questions": [dict(q) for q in questions],
             "intro": "感谢您抽出宝贵时间。" if lang == "zh" else "Thank you for your time."}
            for n, kind, trigger, days, lang, active, questions in s.SURVEYS]  # fmt: skip


@dataclass(slots=True)
class DemoLead:
    fields: dict[str, Any]
    statuses: list[str]  # updates after creation, in order
    convert: bool  # then converted into a new customer (code ``L-…``)


def _usable(item: DemoCustomer, path: str) -> bool:
    return path not in item.invalid and path not in item.noisy


def generate_leads(
    count: int, *, sales: tuple[uuid.UUID, ...], seed: int = 42, start: int = 0
) -> list[DemoLead]:
    """Prospects drawn like customers (names, companies, phones, e-mails), with a status."""
    out = []
    for n, item in enumerate(generate_customers(count, seed=seed, start=LEAD_BASE + start)):
        i = start + n
        rng = random.Random(LEAD_BASE + seed * 1_000_003 + i)
        c, contact = item.customer, (item.contacts[0] if item.contacts else None)
        f: dict[str, Any] = {"name": c["name"], "source": c["source"],
                             "interests": list(c["preferred_products"]),
                             "score": rng.randint(0, 100), "city": c["city"], "province": c["province"]}  # fmt: skip
        phone, email = ("phone", c["phone"]), ("email", c["email"])
        if c["kind"] == "company" and contact is not None:
            f |= {"name": contact["name"], "company_name": c["name"], "title": contact["title"]}
            if contact["phones"]:
                phone = ("contacts.0.phones.0", contact["phones"][0]["number"])
            if contact["emails"]:
                email = ("contacts.0.emails.0", contact["emails"][0]["address"])
        elif c["kind"] == "company":
            f["company_name"] = c["name"]
            f["name"] = (f"{rng.choice(d.EN_FEMALE)} {rng.choice(d.EN_LAST)}" if item.english
                         else rng.choice(d.SURNAMES)[0] + rng.choice(("先生", "女士", "经理")))  # fmt: skip
        for key, (path, value) in (("phone", phone), ("email", email)):
            if value and _usable(item, path):
                f[key] = value
        if rng.random() < 0.3:
            f["notes"] = rng.choice(s.LEAD_NOTES)[item.english]
        if rng.random() < 0.1:
            f["owner_id"] = None  # left to the team
        elif sales:
            f["owner_id"] = sales[i % len(sales)]
        r = rng.random()
        statuses = ([] if r < 0.3 else ["contacted"] if r < 0.55 else ["contacted", "qualified"]
                    if r < 0.85 else ["contacted", "unqualified"])  # fmt: skip
        convert = statuses == ["contacted", "qualified"] and rng.random() < 0.5
        out.append(DemoLead({k: v for k, v in f.items() if v is not None or k == "owner_id"},
                            statuses, convert))  # fmt: skip
    return out


@dataclass(slots=True)
class DemoActivity:
    fields: dict[str, Any]
    attendees: list[dict[str, Any]]  # "customer": index; status, note
    status: str | None = None  # done / cancelled after the attendees are in
    extra: dict[str, Any] = field(default_factory=dict)


def generate_activities(
    count: int, *, customers: int, today: date, seed: int = 42, owner: uuid.UUID | None = None
) -> list[DemoActivity]:
    """Meetings, fairs and webinars, most already held, with customers who attended."""
    out = []
    for i in range(count):
        rng = random.Random(ACTIVITY_BASE + seed * 1_000_003 + i)
        kind, name, place = s.ACTIVITIES[i % len(s.ACTIVITIES)]
        held = rng.random() < 0.75
        day = (
            today - timedelta(days=rng.randint(1, 400))
            if held
            else today + timedelta(days=rng.randint(3, 60))
        )
        starts = datetime.combine(day, time(rng.choice((9, 10, 14))), TZ)
        capacity = rng.choice((None, 50, 100, 300))
        year = f"{day.year} " if kind in ("exhibition", "meeting") else ""
        f: dict[str, Any] = {"name": f"{year}{name[0]}", "kind": kind, "starts_at": starts,
                             "ends_at": starts + timedelta(hours=rng.choice((2, 3, 8))),
                             "location": place[0], "capacity": capacity, "owner_id": owner,
                             "description": name[1]}  # fmt: skip
        if kind == "webinar":
            f["online_url"] = f"https://meeting.example.cn/{rng.getrandbits(32):08x}"
        seats = min(capacity or 40, max(customers, 1), rng.randint(5, 40))
        picked = rng.sample(range(customers), min(seats, customers))
        attendees = []
        for k in picked:
            status = (rng.choices(("attended", "absent"), (80, 20))[0] if held
                      else rng.choice(("invited", "registered")))  # fmt: skip
            a: dict[str, Any] = {"customer": k, "status": status}
            if rng.random() < 0.1:
                a["note"] = rng.choice(s.ATTENDEE_NOTES)
            attendees.append(a)
        then = "done" if held else ("cancelled" if rng.random() < 0.1 else None)
        out.append(DemoActivity({k: v for k, v in f.items() if v is not None}, attendees, then))
    return out
