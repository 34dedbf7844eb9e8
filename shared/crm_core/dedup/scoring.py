"""Explainable pair scores.

Each compared field adds evidence in log-odds, after Fellegi and Sunter: agreement adds the
field's weight (how much likelier such agreement is between two records of one party than
between two records of different parties), disagreement subtracts its own weight, and a fuzzy
comparison (names, streets) slides between the two by its similarity. A field missing on either
side adds nothing: absence is not evidence. The score is the logistic of prior plus evidence, in
0–1. The evidence lists every field with its similarity (0–1), its weight in the total and how it
matched ("exact", "pinyin", "abbreviation", …); it holds no values, so it can be shown to anyone
who may see the pair.

The weights were set on the labelled benchmark (``crm_core.dedup.benchmark``): a shared phone
or e-mail plus a similar name is near-certain; a similar name alone is a candidate for review,
never an automatic merge; a different tax id rules a pair out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from crm_core.cleansing.text import _han, clean_text
from crm_core.dedup.keys import NameForms, email_key, name_forms, phone_key, website_domain

PRIOR = -4.0
# field: (agreement weight, disagreement weight)
WEIGHTS: dict[str, tuple[float, float]] = {
    "name": (4.5, -3.0),
    "phone": (5.0, -1.5),
    "email": (5.0, -1.0),
    "tax_id": (8.0, -6.0),
    "website": (3.0, -0.5),
    "city": (0.7, -1.5),
    "district": (0.5, -0.5),
    "street": (1.5, -0.5),
    "kind": (0.0, -1.0),
}
# Below this similarity a fuzzy field counts as full disagreement.
FUZZY_FLOOR = {"name": 0.5, "street": 0.4}
_STREET_WORDS = {
    "street": "st", "st.": "st", "road": "rd", "rd.": "rd", "avenue": "ave", "ave.": "ave",
    "boulevard": "blvd", "drive": "dr", "lane": "ln", "suite": "ste", "apartment": "apt",
    "floor": "fl", "building": "bldg", "no": "", "no.": "", "number": "",
}  # fmt: skip
_STREET_PUNCT = re.compile(r"[\s,，.。#、\-()（）]+")


@dataclass(frozen=True, slots=True)
class Profile:
    """What scoring compares of one record (customer, contact or lead)."""

    id: Any
    person: NameForms | None = None
    company: NameForms | None = None
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    website: str | None = None
    tax_index: bytes | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    kind: str | None = None


@dataclass(slots=True)
class Evidence:
    field: str
    similarity: float
    weight: float
    how: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "similarity": round(self.similarity, 3),
            "weight": round(self.weight, 3),
            "how": self.how,
        }


@dataclass(slots=True)
class Score:
    score: float
    evidence: list[Evidence] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        total = PRIOR + sum(e.weight for e in self.evidence)
        return {
            "prior": PRIOR,
            "logOdds": round(total, 3),
            "fields": [e.as_dict() for e in self.evidence],
            "matched": [e.field for e in self.evidence if e.weight > 0],
        }


def _clean_set(values: Iterable[str | None], key: Any) -> frozenset[str]:
    return frozenset(k for v in values if (k := key(v)))


def _street(value: str | None) -> str | None:
    text = (clean_text(value) or "").lower()
    if not text:
        return None
    if _han().search(text):
        return _STREET_PUNCT.sub("", text) or None
    words = [_STREET_WORDS.get(w, w) for w in text.replace(",", " ").split()]
    return " ".join(w for w in words if w) or None


def _place(value: str | None) -> str | None:
    text = (clean_text(value) or "").lower()
    for suffix in ("市", "区", "县", "省"):
        text = text.removesuffix(suffix)
    return text or None


def customer_profile(c: Any) -> Profile:
    company = str(c.kind) == "company"
    forms = name_forms(c.name, company=company)
    return Profile(
        id=c.id,
        person=None if company else forms,
        company=forms if company else None,
        phones=_clean_set([c.phone], phone_key),
        emails=_clean_set([c.email], email_key),
        website=website_domain(c.website),
        tax_index=c.tax_id_index,
        city=_place(c.city),
        district=_place(c.district),
        street=_street(c.street or c.address_line),
        kind=str(c.kind),
    )


def contact_profile(c: Any) -> Profile:
    return Profile(
        id=c.id,
        person=name_forms(c.name, company=False),
        phones=_clean_set([p.get("e164") for p in c.phones or []], phone_key),
        emails=_clean_set([e.get("address") for e in c.emails or []], email_key),
    )


def lead_profile(lead: Any) -> Profile:
    return Profile(
        id=lead.id,
        person=name_forms(lead.name, company=False),
        company=name_forms(lead.company_name, company=True) if lead.company_name else None,
        phones=_clean_set([lead.phone], phone_key),
        emails=_clean_set([lead.email], email_key),
        city=_place(lead.city),
    )


def name_similarity(a: NameForms, b: NameForms) -> tuple[float, str]:
    """The best of several views of two names, and which view it was."""
    if a.core == b.core:
        return 1.0, "exact" if a.text == b.text else "core name"
    candidates: list[tuple[float, str]] = [(fuzz.ratio(a.core, b.core) / 100, "fuzzy")]
    transliterated = bool(_han().search(a.core)) != bool(_han().search(b.core))
    if a.latin and b.latin:
        how = "transliteration" if transliterated else "pinyin"
        candidates.append((fuzz.ratio(a.latin, b.latin) / 100 * 0.98, how))
        if len(a.words) > 1 or len(b.words) > 1:
            sorted_ratio = fuzz.token_sort_ratio(" ".join(a.words), " ".join(b.words)) / 100
            candidates.append((sorted_ratio * 0.97, "word order"))
    if set(a.keys) & set(b.keys):
        candidates.append((0.97, "name key"))
    short, long = sorted((a.latin, b.latin), key=len)
    contained = len(short) >= 4 and short in long
    if a.trade_free and a.trade_free == b.trade_free and len(a.trade_free) >= 2:
        # "云帆网络" / "云帆网络科技": one is the other with a trade word left off.
        candidates.append((0.95 if contained else 0.9, "abbreviation"))
    if contained:
        candidates.append((0.85, "contained"))
    return max(candidates)


def _fuzzy_weight(name: str, similarity: float) -> float:
    agree, disagree = WEIGHTS[name]
    floor = FUZZY_FLOOR[name]
    t = max(0.0, min(1.0, (similarity - floor) / (1 - floor)))
    return disagree + (agree - disagree) * t


def _exact(out: list[Evidence], name: str, a: Any, b: Any) -> None:
    if not a or not b:
        return
    agree, disagree = WEIGHTS[name]
    same = bool(a & b) if isinstance(a, frozenset) else a == b
    out.append(Evidence(name, 1.0 if same else 0.0, agree if same else disagree, "exact"))


def compare(a: Profile, b: Profile) -> Score:
    evidence: list[Evidence] = []
    pair = (
        (a.company, b.company)
        if a.company is not None and b.company is not None
        else (a.person, b.person)
    )
    if pair[0] is not None and pair[1] is not None and pair[0].core and pair[1].core:
        similarity, how = name_similarity(pair[0], pair[1])
        evidence.append(Evidence("name", similarity, _fuzzy_weight("name", similarity), how))
    _exact(evidence, "phone", a.phones, b.phones)
    _exact(evidence, "email", a.emails, b.emails)
    _exact(evidence, "tax_id", a.tax_index, b.tax_index)
    _exact(evidence, "website", a.website, b.website)
    _exact(evidence, "city", a.city, b.city)
    if a.city and a.city == b.city:
        _exact(evidence, "district", a.district, b.district)
    if a.street and b.street:
        similarity = fuzz.token_set_ratio(a.street, b.street) / 100
        evidence.append(
            Evidence("street", similarity, _fuzzy_weight("street", similarity), "fuzzy")
        )
    if a.kind and b.kind and a.kind != b.kind:
        evidence.append(Evidence("kind", 0.0, WEIGHTS["kind"][1], "exact"))
    total = PRIOR + sum(e.weight for e in evidence)
    return Score(round(1 / (1 + math.exp(-total)), 4), evidence)
