"""The demo data generator: deterministic, well-formed, realistic in its proportions."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import Counter
from functools import cache
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from crm_core.contacts.models import ContactChannel
from crm_core.contacts.schemas import ContactFields
from crm_core.customers.models import (
    AreaType,
    CreditRating,
    CustomerGrade,
    CustomerKind,
    CustomerSource,
    Gender,
    IncomeBand,
    LifecycleStage,
    PaymentHabit,
    ServiceMode,
)
from crm_core.customers.schemas import CustomerFields
from crm_core.demo.generate import (
    CONTACT_KEYS,
    CUSTOMER_KEYS,
    PHONE_REGION,
    DemoCustomer,
    customer_code,
    generate_customers,
)

SAMPLE = 5_000
ENUM_FIELDS: dict[str, type[Any]] = {
    "kind": CustomerKind,
    "grade": CustomerGrade,
    "lifecycle_stage": LifecycleStage,
    "source": CustomerSource,
    "credit_rating": CreditRating,
    "payment_habit": PaymentHabit,
    "preferred_service_mode": ServiceMode,
    "gender": Gender,
    "area_type": AreaType,
    "income_band": IncomeBand,
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CJK = r"\u3400-\u9fff"
# What noise looks like: outer or odd whitespace, full-width ASCII (not the （） of Chinese
# company names), a space beside a hanzi.
NOISE = re.compile(rf"^\s|\s$|\s\s|[\u3000\t\u00a0]|[\uff01-\uff07\uff0a-\uff5e]|[{CJK}] | [{CJK}]")


@cache
def sample() -> tuple[DemoCustomer, ...]:
    return tuple(generate_customers(SAMPLE, seed=42))


def phone_values(dc: DemoCustomer) -> list[tuple[str, str | None]]:
    """(path, raw number) for the customer phone and every contact phone."""
    out: list[tuple[str, str | None]] = [("phone", dc.customer["phone"])]
    for i, contact in enumerate(dc.contacts):
        out += [(f"contacts.{i}.phones.{j}", p["number"]) for j, p in enumerate(contact["phones"])]
    return out


def email_values(dc: DemoCustomer) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [("email", dc.customer["email"])]
    for i, contact in enumerate(dc.contacts):
        out += [(f"contacts.{i}.emails.{j}", e["address"]) for j, e in enumerate(contact["emails"])]
    return out


def is_valid_phone(raw: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, PHONE_REGION))
    except phonenumbers.NumberParseException:
        return False


def is_valid_email(raw: str) -> bool:
    try:
        validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def test_same_seed_same_output_and_other_seed_differs() -> None:
    owners = [uuid.UUID(int=1), uuid.UUID(int=2)]
    first = list(generate_customers(300, seed=7, owner_ids=owners))
    assert first == list(generate_customers(300, seed=7, owner_ids=owners))
    other = list(generate_customers(300, seed=8, owner_ids=owners))
    assert [c.customer["name"] for c in first] != [c.customer["name"] for c in other]


def test_a_slice_equals_the_same_indexes_of_a_longer_run() -> None:
    assert (
        list(generate_customers(40, seed=3, start=100))
        == list(generate_customers(140, seed=3))[100:]
    )


def test_counts_codes_and_keys() -> None:
    customers = sample()
    assert len(customers) == SAMPLE
    assert list(generate_customers(0)) == []
    codes = [dc.customer["code"] for dc in customers]
    assert len(set(codes)) == SAMPLE
    assert codes[0] == customer_code(0) == "C-000001"
    assert codes[-1] == f"C-{SAMPLE:06d}"
    for dc in customers:
        assert tuple(dc.customer) == CUSTOMER_KEYS
        assert 0 <= len(dc.contacts) <= 4
        for contact in dc.contacts:
            assert set(contact) == set(CONTACT_KEYS)
    with pytest.raises(ValueError, match="negative"):
        list(generate_customers(-1))


def test_exactly_one_primary_contact_when_there_are_contacts() -> None:
    with_contacts = [dc for dc in sample() if dc.contacts]
    assert len(with_contacts) > SAMPLE // 2
    for dc in with_contacts:
        assert sum(c["is_primary"] for c in dc.contacts) == 1


def test_owner_round_robin() -> None:
    owners = [uuid.uuid4() for _ in range(3)]
    got = [dc.customer["owner_id"] for dc in generate_customers(7, owner_ids=owners)]
    assert got == [*owners, *owners, owners[0]]
    assert {dc.customer["owner_id"] for dc in generate_customers(5)} == {None}


def test_values_fit_the_model() -> None:
    for dc in sample():
        c = dc.customer
        for key, enum_type in ENUM_FIELDS.items():
            assert c[key] is None or c[key] in {m.value for m in enum_type}, (key, c[key])
        assert isinstance(c["name"], str)
        assert c["name"].strip()
        assert 0 <= len(c["tags"]) <= 3
        assert 0 <= len(c["preferred_products"]) <= 3
        for item in c["important_dates"]:
            assert set(item) == {"label", "date"}
            assert ISO_DATE.fullmatch(item["date"])
        for item in c["do_not_visit"]:
            assert item["weekday"] is None or 1 <= item["weekday"] <= 7
            assert re.fullmatch(r"\d\d:\d\d", item["start"])
            assert item["start"] < item["end"]
        if c["distance_km"] is not None:
            assert re.fullmatch(r"\d+\.\d\d", c["distance_km"])
        if c["kind"] == "company":
            assert c["gender"] is c["birth_date"] is c["income_band"] is None
        else:
            assert c["gender"]
            assert ISO_DATE.fullmatch(c["birth_date"])
            assert c["income_band"]
            assert c["website"] is None
        assert (c["address_line"] is None) != (c["street"] is None)
        if c["street"] is not None:
            assert c["country"] in {"CN", "US", "GB", "SG"}
            assert c["city"]
            assert c["street"]
        for contact in dc.contacts:
            assert contact["preferred_channel"] in {None, *(m.value for m in ContactChannel)}
            assert contact["birthday"] is None or ISO_DATE.fullmatch(contact["birthday"])
            assert all(p["label"] in {"mobile", "work"} for p in contact["phones"])
            assert all(e["label"] == "work" for e in contact["emails"])
            networks = {s["network"] for s in contact["social_accounts"]}
            assert networks <= {"wechat", "qq", "dingtalk", "linkedin"}


def test_the_service_input_schemas_accept_every_record() -> None:
    for dc in sample()[:1500]:
        CustomerFields.model_validate(dc.customer)
        for contact in dc.contacts:
            ContactFields.model_validate(contact)


def test_roughly_realistic_proportions() -> None:
    customers = [dc.customer for dc in sample()]
    kinds = Counter(c["kind"] for c in customers)
    assert 0.71 < kinds["company"] / SAMPLE < 0.79
    grades = Counter(c["grade"] for c in customers)
    assert grades["A"] < grades["B"] < grades["C"]
    assert grades["A"] / SAMPLE < 0.1
    one_line = sum(c["address_line"] is not None for c in customers)
    assert 0.45 < one_line / SAMPLE < 0.55
    countries = Counter(c["country"] for c in customers if c["country"])
    assert countries["CN"] > countries["US"] > 0
    assert countries["GB"] > 0
    assert countries["SG"] > 0
    chinese = sum(bool(re.search(f"[{CJK}]", c["name"])) for c in customers)
    assert 0.75 < chinese / SAMPLE < 0.85
    no_phone = sum(c["phone"] is None for c in customers)
    assert 0.004 < no_phone / SAMPLE < 0.02
    bad_phone = sum("phone" in dc.invalid for dc in sample())
    assert 0.004 < bad_phone / SAMPLE < 0.02
    noisy = sum(bool(dc.noisy) for dc in sample())
    assert 0.03 < noisy / SAMPLE < 0.12


def test_phones_meant_to_be_valid_are_valid_and_the_others_are_not() -> None:
    checked = 0
    for dc in sample():
        for path, raw in phone_values(dc):
            if raw is None:
                continue
            assert is_valid_phone(raw) is (path not in dc.invalid), (dc.customer["code"], raw)
            checked += 1
    assert checked > SAMPLE


def test_chinese_mobiles_and_landlines_are_both_present() -> None:
    types = Counter()
    for dc in sample()[:1000]:
        for path, raw in phone_values(dc):
            if raw is not None and path not in dc.invalid:
                number = phonenumbers.parse(raw, PHONE_REGION)
                types[(number.country_code, phonenumbers.number_type(number))] += 1
    assert types[(86, phonenumbers.PhoneNumberType.MOBILE)] > 0
    assert types[(86, phonenumbers.PhoneNumberType.FIXED_LINE)] > 0
    assert {cc for cc, _ in types} == {1, 44, 65, 86}


def test_emails_meant_to_be_valid_are_valid_once_cleaned() -> None:
    for dc in sample():
        for path, raw in email_values(dc):
            if raw is None:
                continue
            cleaned = "".join(unicodedata.normalize("NFKC", raw).split())
            assert is_valid_email(cleaned) is (path not in dc.invalid), raw
            assert (cleaned != raw) is (path in dc.noisy), raw


def test_noise_is_where_it_is_said_to_be() -> None:
    def texts(dc: DemoCustomer) -> list[tuple[str, Any]]:
        c = dc.customer
        keys = ("name", "phone", "street", "address_line", "city", "website")
        out: list[tuple[str, Any]] = [(k, c[k]) for k in keys]
        for i, contact in enumerate(dc.contacts):
            out.append((f"contacts.{i}.name", contact["name"]))
            out += [
                (f"contacts.{i}.phones.{j}", p["number"]) for j, p in enumerate(contact["phones"])
            ]
        return out

    for dc in sample():
        for path, value in texts(dc):
            if isinstance(value, str) and path not in dc.invalid:
                assert bool(NOISE.search(value)) is (path in dc.noisy), (path, value)
