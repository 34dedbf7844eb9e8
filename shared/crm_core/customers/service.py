"""Customer use cases: validate and normalise, write in one transaction, then ask for cleansing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.customers import repository
from crm_core.customers.models import Customer
from crm_core.customers.schemas import CustomerFields
from crm_core.dedup.keys import customer_keys
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.lifecycle import service as lifecycle
from crm_core.messaging.outbox import defer
from crm_core.security.tenant_keys import TenantCipher
from crm_core.validation import parse

CLEANSE_ACTOR = "cleansing.cleanse_customer"
CLEANSE_QUEUE = "cleansing"
REQUIRED = ("name", "kind")
TEXT_FIELDS = (
    "name", "industry", "website", "province", "city", "district", "street", "postal_code",
    "purchase_frequency",
)  # fmt: skip
SENSITIVE = ("tax_id", "bank_account")
LIST_FIELDS = ("tags", "preferred_products", "important_dates", "do_not_visit")
ADDRESS_PARTS = ("province", "city", "district", "street", "postal_code")


def _normalise(
    fields: dict[str, Any], *, default_region: str, lenient: bool = False
) -> dict[str, Any]:
    """Clean text, parse phone and e-mail, split a one-line address.

    Raises on what can't be fixed; with ``lenient`` (imports, demo data) the text is kept and
    flagged for review instead, never dropped.
    """
    errors: list[FieldError] = []
    for name in LIST_FIELDS:
        if name in fields and fields[name] is None:
            fields[name] = []  # an explicit null clears the list
    for name in TEXT_FIELDS:
        if name in fields and fields[name] is not None:
            fields[name] = normalize.clean_text(fields[name])
    if fields.get("notes") is not None:
        fields["notes"] = normalize.clean_multiline(fields["notes"])
    if fields.get("code") is not None:
        fields["code"] = fields["code"].upper()
    if fields.get("country") is not None:
        fields["country"] = fields["country"].upper()
    if "tags" in fields and fields["tags"] is not None:
        fields["tags"] = sorted({t for t in (normalize.clean_text(t) for t in fields["tags"]) if t})
    if "phone" in fields:
        raw = normalize.clean_text(fields.pop("phone"))
        fields["phone"], fields["phone_raw"] = None, raw
        if raw:
            result = normalize.normalize_phone(raw, default_region=default_region)
            if result.issue is not None:
                errors.append(FieldError("phone", ErrorCode.INVALID, result.issue.message))
            fields["phone"] = result.e164
    raw_email = fields.get("email")
    if fields.get("email"):
        email = normalize.normalize_email(fields["email"])
        if email.issue is not None:
            errors.append(FieldError("email", ErrorCode.INVALID, email.issue.message))
        fields["email"] = email.normalized
    elif "email" in fields:
        fields["email"] = None
    if fields.get("address_line"):
        fields["address_line"] = normalize.clean_text(fields["address_line"])
        if not any(fields.get(p) for p in ADDRESS_PARTS):
            parts = normalize.split_address(fields["address_line"] or "")
            for part in ("country", *ADDRESS_PARTS):
                value = getattr(parts, part)
                if value and not fields.get(part):
                    fields[part] = value
    for key in ("important_dates", "do_not_visit"):
        if fields.get(key) is not None:
            fields[key] = [item.model_dump(mode="json") for item in fields[key]]
    if errors and lenient:
        fields["review_flags"] = [
            {"field": e.field, "code": "INVALID_" + (e.field or "").upper(), "message": e.message}
            for e in errors
        ]
        if any(e.field == "email" for e in errors):
            fields["email"] = normalize.clean_text(raw_email)
    elif errors:
        raise DomainError(errors)
    return fields


def _seal(
    customer: Customer, fields: dict[str, Any], cipher: TenantCipher | None
) -> dict[str, Any]:
    """Encrypt the sensitive fields into their columns; what the audit log may say about them."""
    changes: dict[str, Any] = {}
    for name in SENSITIVE:
        if name not in fields:
            continue
        value = fields.pop(name)
        if value is not None and cipher is None:
            raise RuntimeError("sensitive fields need the tenant's cipher")
        value = "".join(value.split()).upper() if value else None
        sealed = cipher.encrypt(value, field=name) if value and cipher else None
        setattr(customer, f"{name}_encrypted", sealed)
        if name == "tax_id":
            customer.tax_id_index = (
                cipher.blind_index(value, field=name) if value and cipher else None
            )
        changes[name] = ["(encrypted)", "(encrypted)" if value else None]
    return changes


def refresh_search(c: Customer) -> None:
    c.search_text, c.search_public = search_text_of(c), search_public_of(c)
    c.dedup_keys = customer_keys(c)  # blocking keys of crm_core.dedup (duplicate look-ups)


def search_public_of(c: Customer) -> str:
    """What roles without the personal-data permission may search: no phone, no e-mail."""
    return normalize.search_text(c.name, c.code, c.city, c.industry)


def search_text_of(c: Customer) -> str:
    return normalize.search_text(c.name, c.code, c.phone, c.email, c.city, c.industry)


def _writable(data: Mapping[str, Any]) -> tuple[CustomerFields, dict[str, Any]]:
    parsed = parse(CustomerFields, dict(data))
    return parsed, {name: getattr(parsed, name) for name in parsed.model_fields_set}


async def create(
    session: AsyncSession,
    principal: Principal,
    data: Mapping[str, Any],
    *,
    default_region: str = "CN",
    cleanse: bool = True,
    lenient: bool = False,
    cipher: TenantCipher | None = None,
) -> Customer:
    data = dict(data)
    reason = lifecycle.take_reason(data)  # not a column: it goes into the lifecycle history
    _, fields = _writable(data)
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in REQUIRED if not fields.get(f)]
    if missing:
        raise DomainError(missing)
    fields = _normalise(fields, default_region=default_region, lenient=lenient)
    # A person owns what they create; an integration's records go to the shared pool.
    fields.setdefault("owner_id", None if principal.client_id else principal.user_id)
    await _check_owner(session, principal, fields.get("owner_id"))
    if not fields.get("code"):
        fields["code"] = await repository.next_code(session)
    elif await repository.get_by_code(session, fields["code"]) is not None:
        raise DomainError.one("code", ErrorCode.DUPLICATE, "another customer has this code")
    sensitive = {k: fields.pop(k) for k in SENSITIVE if k in fields}
    customer = Customer(**fields, created_by=principal.user_id, updated_by=principal.user_id)
    _seal(customer, sensitive, cipher)
    refresh_search(customer)
    session.add(customer)
    await _flush(session)
    audit.record(session, principal, "create", "customer", customer.id, audit.snapshot(customer))
    lifecycle.record_change(session, principal, customer, None, reason)
    if cleanse:
        defer(session, CLEANSE_ACTOR, CLEANSE_QUEUE, customer_id=customer.id)
    return customer


async def update(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
    default_region: str = "CN",
    cipher: TenantCipher | None = None,
) -> Customer:
    data = dict(data)
    reason = lifecycle.take_reason(data)  # not a column: it goes into the lifecycle history
    _, fields = _writable(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in REQUIRED
        if f in fields and not fields[f]
    ]
    if cleared:
        raise DomainError(cleared)
    customer = await records.get_for_write(
        session, Customer, customer_id, expected_version, "customer", visible=_visible(principal)
    )
    fields = _normalise(fields, default_region=default_region)
    if "owner_id" in fields:
        await _check_owner(session, principal, fields["owner_id"])
    new_code = fields.get("code")
    if (
        new_code
        and new_code != customer.code
        and await repository.get_by_code(session, new_code) is not None
    ):
        raise DomainError.one("code", ErrorCode.DUPLICATE, "another customer has this code")
    sealed = _seal(customer, fields, cipher)  # encrypted columns are not in audit snapshots
    stage_before = customer.lifecycle_stage
    await records.apply_update(
        session, principal, customer, fields, "customer",
        refresh=refresh_search, flush=_flush, extra_changes=sealed,
    )  # fmt: skip
    lifecycle.record_change(session, principal, customer, stage_before, reason)
    defer(session, CLEANSE_ACTOR, CLEANSE_QUEUE, customer_id=customer.id)
    return customer


async def restore(session: AsyncSession, principal: Principal, customer_id: uuid.UUID) -> Customer:
    merged = await repository.get(
        session, customer_id, include_deleted=True, scope=principal.data_scope
    )
    if merged is not None and merged.merged_into_id is not None:
        # A merge tombstone comes back only with its merge (undoMerge), never half.
        raise DomainError.one(
            "id", ErrorCode.CONFLICT, "this customer was merged into another; undo the merge"
        )
    return await records.restore(
        session, principal, Customer, customer_id, "customer", visible=_visible(principal)
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


async def _check_owner(
    session: AsyncSession, principal: Principal, owner_id: uuid.UUID | None
) -> None:
    await records.check_member(session, principal, owner_id, "owner_id")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_customers_code" in str(exc.orig):
            raise DomainError.one(
                "code", ErrorCode.DUPLICATE, "another customer has this code"
            ) from None
        raise


async def create_many(
    session: AsyncSession,
    principal: Principal,
    items: Sequence[Mapping[str, Any]],
    *,
    default_region: str = "CN",
    cleanse: bool = True,
    cipher: TenantCipher | None = None,
) -> list[Customer]:
    """All or nothing: an error in item ``i`` names ``{i}.field`` and nothing is written."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(
                await create(
                    session, principal, item,
                    default_region=default_region, cleanse=cleanse, cipher=cipher,
                )
            )  # fmt: skip
        except DomainError as exc:
            raise DomainError(
                [
                    FieldError(f"{i}.{e.field}" if e.field else str(i), e.code, e.message)
                    for e in exc.errors
                ]
            ) from None
    return out


MAX_TRANSFER = 500


async def transfer(
    session: AsyncSession,
    principal: Principal,
    customer_ids: Sequence[uuid.UUID],
    to_owner_id: uuid.UUID,
) -> list[Customer]:
    """Hand customers to another owner, all or nothing. Both the customers and the new owner must
    be inside the principal's data scope; a customer outside it is "not found"."""
    if not customer_ids:
        raise DomainError.one("ids", ErrorCode.REQUIRED, "name at least one customer")
    if len(customer_ids) > MAX_TRANSFER:
        raise DomainError.one("ids", ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_TRANSFER} per call")
    try:
        await _check_owner(session, principal, to_owner_id)
    except DomainError as exc:
        raise DomainError(
            [FieldError("to_owner_id", e.code, e.message) for e in exc.errors]
        ) from None
    found = {
        c.id: c
        for c in await repository.get_many(session, customer_ids, scope=principal.data_scope)
    }
    missing = [i for i, cid in enumerate(customer_ids) if cid not in found]
    if missing:
        raise DomainError(
            [FieldError(f"ids.{i}", ErrorCode.NOT_FOUND, "customer not found") for i in missing]
        )
    moved = []
    for customer in found.values():
        if customer.owner_id == to_owner_id:
            continue
        before = customer.owner_id
        customer.owner_id, customer.updated_by = to_owner_id, principal.user_id
        audit.record(
            session,
            principal,
            "transfer",
            "customer",
            customer.id,
            {"owner_id": [audit.plain(before), str(to_owner_id)]},
        )
        moved.append(customer)
    await _flush(session)
    return list(found.values())


_lifecycle = records.Lifecycle(Customer, "customer", _visible)
soft_delete = _lifecycle.soft_delete
# destroy: Hard delete (separate permission): the customer and, by cascade, its contacts.
destroy = _lifecycle.destroy
