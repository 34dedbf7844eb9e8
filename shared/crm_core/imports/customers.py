"""Customers in bulk: every row through the customer service's own validation and normalisation
(``CustomerFields``, phones to E.164, e-mails, address split, search texts, dedup keys, sealed
tax ids), matched on its natural key — code, else e-mail, else phone — and written a chunk at a
time (one flush for hundreds of rows) with the same audit and lifecycle entries as
``customers.service``. A chunk the database refuses (a race on a code) is redone row by row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from crm_core.audit import service as audit
from crm_core.customers import service as customers
from crm_core.customers.models import Customer, LifecycleStage, customer_code_seq
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.imports.rows import (
    CREATED,
    UPDATED,
    Chunk,
    RowResult,
    label,
    plain_number,
    split_list,
)
from crm_core.lifecycle import service as lifecycle

LISTS = ("tags", "preferred_products")
LABELLED = ("kind", "gender", "area_type", "source", "lifecycle_stage")
UPPER = ("grade", "credit_rating")


def data_of(values: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(values)
    for name in LISTS:
        if name in data:
            data[name] = split_list(data[name])
    for name in LABELLED:
        if name in data:
            data[name] = label(name, data[name])
    for name in UPPER:
        if name in data:
            data[name] = data[name].upper()
    if "distance_km" in data:
        data["distance_km"] = plain_number(data["distance_km"])
    return data


class _Prepared:
    __slots__ = ("fields", "key", "result", "sensitive")

    def __init__(self, result: RowResult, fields: dict[str, Any]) -> None:
        self.result = result
        self.sensitive = {k: fields.pop(k) for k in customers.SENSITIVE if k in fields}
        self.fields = fields
        self.key: tuple[str, str] | None = None


def _prepare(chunk: Chunk, result: RowResult) -> _Prepared | None:
    try:
        _, fields = customers._writable(data_of(result.values))
        fields = customers._normalise(fields, default_region=chunk.default_region)
    except DomainError as exc:
        result.fail(exc.errors)
        return None
    p = _Prepared(result, fields)
    if fields.get("code"):
        p.key = ("code", fields["code"])
    elif fields.get("email"):
        p.key = ("email", fields["email"])
    elif fields.get("phone"):
        p.key = ("phone", fields["phone"])
    return p


async def _existing(chunk: Chunk, rows: Sequence[_Prepared]) -> dict[tuple[str, str], Any]:
    """Records matching the chunk's keys: codes across the whole tenant (they are unique whoever
    owns them), e-mails and phones among live customers."""
    keys: dict[str, set[str]] = {"code": set(), "email": set(), "phone": set()}
    for p in rows:
        if p.key is not None:
            keys[p.key[0]].add(p.key[1])
    if not any(keys.values()):
        return {}
    live = and_(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))
    stmt = select(Customer).where(
        or_(
            Customer.code.in_(sorted(keys["code"])),
            and_(live, Customer.email.in_(sorted(keys["email"]))),
            and_(live, Customer.phone.in_(sorted(keys["phone"]))),
        )
    )
    found: dict[tuple[str, str], Any] = {}
    for c in (await chunk.session.execute(stmt)).scalars():
        found[("code", c.code)] = c
        for kind in ("email", "phone"):
            value = getattr(c, kind)
            if value and c.deleted_at is None and c.merged_into_id is None:
                # Several customers with one e-mail: the row is ambiguous.
                found[(kind, value)] = "ambiguous" if (kind, value) in found else c
    return found


def _refusal(chunk: Chunk, key: tuple[str, str], match: Any) -> FieldError | None:
    kind, _ = key
    if match == "ambiguous":
        return FieldError(kind, ErrorCode.CONFLICT, f"several customers have this {kind}")
    if match.deleted_at is not None or match.merged_into_id is not None:
        return FieldError("code", ErrorCode.DUPLICATE, "a deleted customer has this code")
    if not chunk.principal.data_scope.covers_owner(match.owner_id):
        return FieldError("code", ErrorCode.DUPLICATE, "another customer has this code")
    return None


async def _new_codes(chunk: Chunk, n: int) -> list[str]:
    if n == 0:
        return []
    stmt = select(customer_code_seq.next_value()).select_from(func.generate_series(1, n))
    return [f"C-{v:06d}" for v in (await chunk.session.execute(stmt)).scalars()]


def _apply(
    chunk: Chunk, p: _Prepared, target: Customer | None, code: str | None
) -> tuple[Customer, dict[str, Any] | None, Any]:
    """Write one row into a new or existing customer; returns it, its snapshot before (None when
    new) and its stage before."""
    principal = chunk.principal
    if target is None:
        fields = dict(p.fields)
        if code is not None:
            fields["code"] = code
        fields.setdefault("owner_id", None if principal.client_id else principal.user_id)
        fields.setdefault("lifecycle_stage", LifecycleStage.new)
        fields.setdefault("kind", "company")
        customer = Customer(
            id=uuid.uuid4(), **fields, created_by=principal.user_id, updated_by=principal.user_id
        )
        customers._seal(customer, dict(p.sensitive), chunk.cipher)
        customers.refresh_search(customer)
        chunk.session.add(customer)
        p.result.action, p.result.record_id = CREATED, customer.id
        return customer, None, None
    before = audit.snapshot(target)
    stage = target.lifecycle_stage
    for name, value in p.fields.items():
        setattr(target, name, value)
    sealed = customers._seal(target, dict(p.sensitive), chunk.cipher)
    target.updated_by = principal.user_id
    customers.refresh_search(target)
    if p.result.action != CREATED:  # a second row for a record created in this chunk
        p.result.action = UPDATED
    p.result.record_id = target.id
    return target, before | {"__sealed": sealed}, stage


async def merge(chunk: Chunk, results: Sequence[RowResult]) -> None:
    prepared = [p for p in (_prepare(chunk, r) for r in results) if p is not None]
    for p in prepared:
        if not p.fields.get("name") and p.key is None:
            p.result.fail([FieldError("name", ErrorCode.REQUIRED, "required")])
    prepared = [p for p in prepared if p.result.errors == []]
    found = await _existing(chunk, prepared)
    try:
        async with chunk.session.begin_nested():
            await _write(chunk, prepared, found)
    except IntegrityError:
        # A code taken meanwhile by another writer: find the row, keep the others.
        for p in prepared:
            p.result.errors, p.result.action = [], "failed"
            try:
                async with chunk.session.begin_nested():
                    await _write(chunk, [p], await _existing(chunk, [p]))
            except IntegrityError:
                p.result.fail(
                    [FieldError("code", ErrorCode.DUPLICATE, "another customer has this code")]
                )


async def _write(chunk: Chunk, prepared: Sequence[_Prepared], found: dict[Any, Any]) -> None:
    in_chunk: dict[tuple[str, str], Customer] = {}
    new_rows = [
        p
        for p in prepared
        if (p.key is None or (p.key not in found and p.key[0] != "code"))
        and not p.fields.get("code")
    ]
    codes = iter(await _new_codes(chunk, len(new_rows)))
    touched: list[tuple[_Prepared, Customer, dict[str, Any] | None, Any]] = []
    for p in prepared:
        target: Customer | None = None
        if p.key is not None and p.key in in_chunk:
            target = in_chunk[p.key]
        elif p.key is not None and p.key in found:
            refusal = _refusal(chunk, p.key, found[p.key])
            if refusal is not None:
                p.result.fail([refusal])
                continue
            target = found[p.key]
        if target is None and not p.fields.get("name"):
            p.result.fail([FieldError("name", ErrorCode.REQUIRED, "required")])
            continue
        code = next(codes, None) if target is None and not p.fields.get("code") else None
        customer, before, stage = _apply(chunk, p, target, code)
        if p.key is not None:
            in_chunk[p.key] = customer
        if customer.code:
            in_chunk[("code", customer.code)] = customer
        touched.append((p, customer, before, stage))
    await chunk.session.flush()
    principal = chunk.principal
    seen: set[uuid.UUID] = set()
    for p, customer, before, stage in touched:
        if p.result.errors:
            continue
        if before is None and customer.id not in seen:
            audit.record(
                chunk.session, principal, "create", "customer", customer.id,
                audit.snapshot(customer),
            )  # fmt: skip
            lifecycle.record_change(chunk.session, principal, customer, None, None)
        elif before is not None:
            sealed = before.pop("__sealed")
            changes = audit.diff(before, audit.snapshot(customer)) | sealed
            if changes:
                audit.record(chunk.session, principal, "update", "customer", customer.id, changes)
            lifecycle.record_change(chunk.session, principal, customer, stage, None)
        seen.add(customer.id)
