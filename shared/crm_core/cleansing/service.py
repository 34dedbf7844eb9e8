"""Cleansing a stored customer: fix what can be fixed, flag what a person has to look at.

``cleanse_customer_values`` is pure (customer in, changes and flags out) so the rules can be tested
without a database. It is idempotent by construction: each rule looks only at the values it would
produce, so applying its changes and running it again yields no change and the same flags.

``cleanse_customer`` applies the result. Value changes go through the ORM, so the optimistic-
concurrency ``version`` moves: a user who loaded the record before the fix must reload it. Flags and
``cleansed_at`` are metadata and go through a plain UPDATE that leaves ``version`` and
``updated_at`` alone, so a user editing at the same moment never gets a conflict because of them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.customers.models import Customer

# Imported, not copied, so the worker and the service can never disagree on what is searchable.
from crm_core.customers.service import search_public_of, search_text_of
from crm_core.identity.principal import Principal

INVALID_PHONE: Final = "INVALID_PHONE"
INVALID_EMAIL: Final = "INVALID_EMAIL"
ADDRESS_UNPARSED: Final = "ADDRESS_UNPARSED"
NO_CONTACT_METHOD: Final = "NO_CONTACT_METHOD"
EMPTY_NAME: Final = "EMPTY_NAME"
# Flags this module owns; any other flag on a record (set by other work) is left in place.
CODES: Final = frozenset(
    {INVALID_PHONE, INVALID_EMAIL, ADDRESS_UNPARSED, NO_CONTACT_METHOD, EMPTY_NAME}
)

TEXT_FIELDS: Final = (
    "name", "industry", "website", "address_line", "province", "city", "district", "street",
    "postal_code", "purchase_frequency",
)  # fmt: skip
ADDRESS_PARTS: Final = ("country", "province", "city", "district", "street", "postal_code")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

Flag = dict[str, str]
SearchText = Callable[[Customer], str]


@dataclass(frozen=True, slots=True)
class CleanseResult:
    changes: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CleanseOutcome:
    customer_id: uuid.UUID
    changed: tuple[str, ...]
    flags: list[Flag]
    version: int


def _flag(field_name: str, code: str, message: str) -> Flag:
    return {"field": field_name, "code": code, "message": message}


def _max_length(name: str) -> int | None:
    length = getattr(Customer.__table__.c[name].type, "length", None)
    return length if isinstance(length, int) else None


def _fits(name: str, value: str | None) -> bool:
    """NFKC can lengthen text (``㈱`` → ``(株)``); a value the column cannot hold is left as it was."""
    limit = _max_length(name)
    return value is None or limit is None or len(value) <= limit


class _Draft:
    """The customer's values as they will be after the changes found so far."""

    def __init__(self, customer: Customer) -> None:
        self._customer = customer
        self.changes: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        return self.changes[name] if name in self.changes else getattr(self._customer, name)

    def set(self, name: str, value: Any) -> None:
        if value == getattr(self._customer, name):
            self.changes.pop(name, None)
        elif _fits(name, value):
            self.changes[name] = value


def _clean_texts(draft: _Draft, flags: list[Flag]) -> None:
    for name in TEXT_FIELDS:
        current = draft.get(name)
        if current is None:
            continue
        cleaned = normalize.clean_text(current)
        if name == "name" and not cleaned:
            # A customer must keep a name: leave the stored text and ask a person.
            flags.append(_flag("name", EMPTY_NAME, "the name is blank after cleaning"))
            continue
        draft.set(name, cleaned)
    notes = draft.get("notes")
    if notes is not None:
        draft.set("notes", normalize.clean_multiline(notes))
    country = draft.get("country")
    if country is not None:
        draft.set("country", (normalize.clean_text(country) or "").upper() or None)


def _cleanse_phone(draft: _Draft, flags: list[Flag], default_region: str) -> bool:
    """Returns whether the customer has a usable phone number afterwards."""
    phone, raw = draft.get("phone"), draft.get("phone_raw")
    if phone and _E164.fullmatch(phone):
        return True  # already parsed; re-parsing could only disagree with what the user confirmed
    # A non-E.164 value in ``phone`` (written around the service) is really raw text.
    candidate = phone or raw
    if not candidate:
        return False
    result = normalize.normalize_phone(candidate, default_region=default_region, field="phone")
    if result.e164 is not None and result.issue is None:
        draft.set("phone", result.e164)
        if not raw:
            draft.set("phone_raw", candidate)
        return True
    if phone and not raw:
        # Keep the text (never drop what was typed) but out of the E.164 column.
        draft.set("phone_raw", phone)
        draft.set("phone", None)
    masked = normalize.mask_phone(candidate)
    flags.append(
        _flag(
            "phone",
            INVALID_PHONE,
            f"{masked} is not a valid phone number (region {default_region})",
        )
    )
    return False


def _cleanse_email(draft: _Draft, flags: list[Flag]) -> bool:
    email = draft.get("email")
    if not email:
        return False
    result = normalize.normalize_email(email, field="email")
    if result.issue is None and result.normalized:
        draft.set("email", result.normalized)
        return True
    # Keep the stored text: a person may still recognise it and fix it.
    flags.append(
        _flag(
            "email", INVALID_EMAIL, f"{normalize.mask_email(email)} is not a valid e-mail address"
        )
    )
    return False


def _cleanse_address(draft: _Draft, flags: list[Flag], default_region: str) -> None:
    line = draft.get("address_line")
    if not line or draft.get("province"):
        return
    parts = normalize.split_address(line, default_country=draft.get("country") or default_region)
    for name in ADDRESS_PARTS:
        value = getattr(parts, name)
        if value and not draft.get(name):
            draft.set(name, value)
    # Flag only while the province is still missing: once the split has filled it the next run
    # skips the split, so a flag kept after a fill would vanish then (not idempotent). A foreign
    # line (no issue from the splitter) is not a problem to review.
    if parts.issue is not None and not draft.get("province"):
        flags.append(
            _flag(
                "address_line",
                ADDRESS_UNPARSED,
                "the province could not be recognised in the address",
            )
        )


def cleanse_customer_values(customer: Customer, *, default_region: str) -> CleanseResult:
    """The changes that would clean ``customer`` and the problems left for a person."""
    draft = _Draft(customer)
    flags: list[Flag] = []
    _clean_texts(draft, flags)
    has_phone = _cleanse_phone(draft, flags, default_region)
    has_email = _cleanse_email(draft, flags)
    _cleanse_address(draft, flags, default_region)
    if not has_phone and not has_email:
        # A record-level problem, reported on the phone, the usual way to reach a customer here.
        flags.append(_flag("phone", NO_CONTACT_METHOD, "no usable phone number or e-mail address"))
    return CleanseResult(changes=dict(draft.changes), flags=flags)


def merge_flags(existing: Sequence[Flag] | None, ours: Sequence[Flag]) -> list[Flag]:
    """Our flags replace our previous ones; flags set by other work are kept, first."""
    kept = [f for f in existing or () if f.get("code") not in CODES]
    return [*kept, *ours]


async def cleanse_customer(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    default_region: str,
    search_text: SearchText = search_text_of,
) -> CleanseOutcome | None:
    """Cleanse one customer inside the caller's transaction; None if it is missing or deleted."""
    stmt = (
        select(Customer)
        .where(Customer.id == customer_id, Customer.deleted_at.is_(None))
        # Serialises two cleansers of the same record, and a cleanser with a user's save: the
        # user's UPDATE waits for this transaction and then fails its version check if we changed
        # values (correct: what they saw is no longer what is stored).
        .with_for_update()
    )
    customer = (await session.execute(stmt)).scalar_one_or_none()
    if customer is None:
        return None
    return await cleanse_locked(
        session, customer, default_region=default_region, search_text=search_text
    )


def _apply(
    session: AsyncSession, customer: Customer, default_region: str, search_text: SearchText
) -> tuple[list[str], list[Flag]]:
    """Set the cleaned values on ``customer`` (not flushed) and audit them; returns the changed
    field names and the record's flags after cleansing."""
    result = cleanse_customer_values(customer, default_region=default_region)
    before = {name: audit.plain(getattr(customer, name)) for name in result.changes}
    for name, value in result.changes.items():
        setattr(customer, name, value)
    changed = list(result.changes)
    # Also repairs search texts left stale by a write that went around the service.
    text, public = search_text(customer), search_public_of(customer)
    if text != customer.search_text:
        customer.search_text = text
        changed.append("search_text")
    if public != customer.search_public:
        customer.search_public = public
        changed.append("search_public")
    values = {k: [before[k], audit.plain(v)] for k, v in result.changes.items()}
    if values:
        system = Principal.system(session.info["tenant"])
        audit.record(session, system, "cleanse", "customer", customer.id, values)
    return changed, merge_flags(customer.review_flags, result.flags)


def _mark(customer: Customer, flags: list[Flag], cleansed_at: Any) -> None:
    # Show the caller what was written without marking the object dirty: a plain assignment
    # would be flushed at commit as an ORM UPDATE, bumping ``version`` after all.
    set_committed_value(customer, "review_flags", flags)
    set_committed_value(customer, "cleansed_at", cleansed_at)


async def cleanse_locked(
    session: AsyncSession,
    customer: Customer,
    *,
    default_region: str,
    search_text: SearchText = search_text_of,
) -> CleanseOutcome:
    """Cleanse ``customer``, loaded by the caller in this transaction with ``FOR UPDATE``."""
    [outcome] = await cleanse_many(
        session, [customer], default_region=default_region, search_text=search_text
    )
    return outcome


async def cleanse_many(
    session: AsyncSession,
    customers: Sequence[Customer],
    *,
    default_region: str,
    search_text: SearchText = search_text_of,
) -> list[CleanseOutcome]:
    """Cleanse customers the caller loaded in this transaction with ``FOR UPDATE``, with a few
    statements for all of them (a whole-tenant pass runs this per chunk)."""
    applied = [_apply(session, c, default_region, search_text) for c in customers]
    # The ORM's UPDATEs (bumping ``version`` and ``updated_at`` of the changed ones) and the audit
    # rows, in one flush.
    await session.flush()
    if not customers:
        return []
    table = cast(Table, Customer.__table__)
    # One statement for every record's flags and ``cleansed_at``. Naming ``updated_at`` stops its
    # onupdate default: flags are not a user-visible edit. ``now()`` is the transaction's time,
    # equal to ``updated_at`` where values changed, so a periodic scan can pick records with
    # ``updated_at > cleansed_at``.
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(review_flags=bindparam("b_flags"), cleansed_at=func.now())
        .values(updated_at=table.c.updated_at)
    )
    await session.execute(
        stmt,
        [
            {"b_id": c.id, "b_flags": flags}
            for c, (_, flags) in zip(customers, applied, strict=True)
        ],
    )
    cleansed_at = await session.scalar(select(func.now()))
    outcomes = []
    for customer, (changed, flags) in zip(customers, applied, strict=True):
        _mark(customer, flags, cleansed_at)
        outcomes.append(CleanseOutcome(customer.id, tuple(changed), flags, customer.version))
    return outcomes


__all__ = [
    "ADDRESS_UNPARSED",
    "CODES",
    "EMPTY_NAME",
    "INVALID_EMAIL",
    "INVALID_PHONE",
    "NO_CONTACT_METHOD",
    "CleanseOutcome",
    "CleanseResult",
    "cleanse_customer",
    "cleanse_customer_values",
    "cleanse_locked",
    "merge_flags",
    "search_text_of",
]
