"""Contacts, leads, products and orders: each row through its service's ``create`` or ``update``
(so validation, normalisation, search texts and audit are exactly the API's), in a savepoint per
row so one bad row never spoils its chunk. Look-ups by natural key are batched per chunk."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from crm_core.cleansing import normalize
from crm_core.contacts import service as contacts
from crm_core.contacts.models import Contact
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.imports.rows import (
    CREATED,
    UPDATED,
    Chunk,
    RowResult,
    label,
    plain_number,
    required,
    split_list,
    to_bool,
)
from crm_core.leads import repository as leads_repo
from crm_core.leads import service as leads
from crm_core.leads.models import Lead
from crm_core.orders import service as orders
from crm_core.orders.models import Order
from crm_core.products import service as products
from crm_core.products.models import Product


async def _row(result: RowResult, chunk: Chunk, work: Callable[[], Awaitable[Any]]) -> Any:
    """One row in its own savepoint: its errors are the row's, the chunk goes on."""
    try:
        async with chunk.session.begin_nested():
            return await work()
    except DomainError as exc:
        result.fail(exc.errors)
    except IntegrityError:
        result.fail([FieldError(None, ErrorCode.CONFLICT, "conflicts with another record")])
    return None


async def customers_by_code(chunk: Chunk, codes: set[str]) -> dict[str, uuid.UUID]:
    """Live customers the principal sees, by code (a customer outside the scope is missing)."""
    if not codes:
        return {}
    stmt = select(Customer.code, Customer.id).where(
        Customer.code.in_(sorted(codes)),
        customers_repo.live(),
        Customer.merged_into_id.is_(None),
        customers_repo.visible(chunk.principal.data_scope),
    )
    return {code: cid for code, cid in (await chunk.session.execute(stmt)).all()}


def _code(value: str | None) -> str | None:
    return value.strip().upper() if value else None


# --- contacts ---------------------------------------------------------------------------------


def _email_of(value: str | None) -> str | None:
    if not value:
        return None
    return normalize.normalize_email(value).normalized or value.strip().lower()


def _contact_data(values: dict[str, str], existing: Contact | None, region: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: v
        for k, v in values.items()
        if k in ("name", "title", "department", "preferred_time", "birthday", "notes")
    }
    if "preferred_channel" in values:
        data["preferred_channel"] = values["preferred_channel"].strip().lower()
    if "is_primary" in values:
        data["is_primary"] = to_bool(values["is_primary"], "is_primary")
    if "phone" in values:
        numbers = split_list(values["phone"])
        kept = [{"label": p.get("label") or "mobile", "number": p.get("e164") or p.get("raw")}
                for p in (existing.phones if existing else [])]  # fmt: skip
        have = {
            normalize.normalize_phone(str(p["number"]), default_region=region).e164 for p in kept
        }
        new = [
            {"number": n}
            for n in numbers
            if normalize.normalize_phone(n, default_region=region).e164 not in have
        ]
        if new or not existing:
            data["phones"] = kept + new
    if "email" in values:
        addresses = split_list(values["email"])
        kept = [{"label": e.get("label") or "work", "address": e["address"]}
                for e in (existing.emails if existing else [])]  # fmt: skip
        have = {_email_of(e["address"]) for e in kept}
        new = [{"address": a} for a in addresses if _email_of(a) not in have]
        if new or not existing:
            data["emails"] = kept + new
    return data


async def merge_contacts(chunk: Chunk, results: Sequence[RowResult]) -> None:
    ok = []
    for r in results:
        missing = required(r.values, "customer_code", "name")
        if missing and not (r.values.get("customer_code") and r.values.get("email")):
            r.fail(missing)
        else:
            ok.append(r)
    by_code = await customers_by_code(chunk, {_code(r.values["customer_code"]) or "" for r in ok})
    existing: list[Contact] = []
    if by_code:
        stmt = select(Contact).where(
            Contact.customer_id.in_(list(by_code.values())), Contact.deleted_at.is_(None)
        )
        existing = list((await chunk.session.execute(stmt)).scalars())
    for r in ok:
        customer_id = by_code.get(_code(r.values["customer_code"]) or "")
        if customer_id is None:
            r.fail([FieldError("customer_code", ErrorCode.NOT_FOUND, "no customer with this code")])
            continue
        email = _email_of(r.values.get("email"))
        name = normalize.clean_text(r.values.get("name") or "")
        match = next(
            (
                c
                for c in existing
                if c.customer_id == customer_id
                and email
                and any(_email_of(e.get("address")) == email for e in c.emails)
            ),
            None,
        ) or next(
            (c for c in existing if c.customer_id == customer_id and name and c.name == name),
            None,
        )
        data = _contact_data(r.values, match, chunk.default_region)
        if match is None:

            async def create(cid: uuid.UUID = customer_id, d: dict[str, Any] = data) -> Any:
                return await contacts.create(
                    chunk.session, chunk.principal, cid, d, default_region=chunk.default_region
                )

            done = await _row(r, chunk, create)
            if done is not None:
                r.action, r.record_id = CREATED, done.id
                existing.append(done)
        else:

            async def update(c: Contact = match, d: dict[str, Any] = data) -> Any:
                return await contacts.update(
                    chunk.session, chunk.principal, c.id, d,
                    expected_version=None, default_region=chunk.default_region,
                )  # fmt: skip

            done = await _row(r, chunk, update)
            if done is not None:
                r.action, r.record_id = UPDATED, done.id


# --- leads ------------------------------------------------------------------------------------


def _lead_data(values: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(values)
    if "interests" in data:
        data["interests"] = split_list(data["interests"])
    if "source" in data:
        data["source"] = label("source", data["source"])
    if "score" in data:
        data["score"] = plain_number(data["score"])
    return data


async def merge_leads(chunk: Chunk, results: Sequence[RowResult]) -> None:
    region = chunk.default_region
    keys: list[tuple[str, str] | None] = []
    for r in results:
        email = _email_of(r.values.get("email"))
        phone = (
            normalize.normalize_phone(r.values["phone"], default_region=region).e164
            if r.values.get("phone")
            else None
        )
        keys.append(("email", email) if email else ("phone", phone) if phone else None)
    emails = sorted({k[1] for k in keys if k and k[0] == "email"})
    phones = sorted({k[1] for k in keys if k and k[0] == "phone"})
    found: dict[tuple[str, str], Lead] = {}
    if emails or phones:
        stmt = select(Lead).where(
            leads_repo.live(),
            leads_repo.visible(chunk.principal.data_scope),
            or_(Lead.email.in_(emails), Lead.phone.in_(phones)),
        )
        for lead in (await chunk.session.execute(stmt)).scalars():
            for kind in ("email", "phone"):
                value = getattr(lead, kind)
                if value:
                    found.setdefault((kind, value), lead)
    for r, key in zip(results, keys, strict=True):
        data = _lead_data(r.values)
        match = found.get(key) if key else None
        if match is None:

            async def create(d: dict[str, Any] = data) -> Any:
                return await leads.create(chunk.session, chunk.principal, d, default_region=region)

            done = await _row(r, chunk, create)
            if done is not None:
                r.action, r.record_id = CREATED, done.id
                if key:
                    found[key] = done
        else:

            async def update(lead: Lead = match, d: dict[str, Any] = data) -> Any:
                return await leads.update(
                    chunk.session, chunk.principal, lead.id, d,
                    expected_version=None, default_region=region,
                )  # fmt: skip

            done = await _row(r, chunk, update)
            if done is not None:
                r.action, r.record_id = UPDATED, done.id


# --- products ---------------------------------------------------------------------------------


def _product_data(values: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(values)
    for name in ("unit_price", "cost"):
        if name in data:
            data[name] = plain_number(data[name])
    if "active" in data:
        data["active"] = to_bool(data["active"], "active")
    return data


async def merge_products(chunk: Chunk, results: Sequence[RowResult]) -> None:
    codes = {normalize.clean_text(r.values["code"]) for r in results if r.values.get("code")}
    found: dict[str, Product] = {}
    if codes:
        stmt = select(Product).where(Product.code.in_(sorted(codes)), Product.deleted_at.is_(None))
        found = {p.code: p for p in (await chunk.session.execute(stmt)).scalars()}
    for r in results:
        missing = required(r.values, "code")
        if missing:
            r.fail(missing)
            continue
        data = _product_data(r.values)
        match = found.get(normalize.clean_text(r.values["code"]) or "")
        if match is None:

            async def create(d: dict[str, Any] = data) -> Any:
                return await products.create(chunk.session, chunk.principal, d)

            done = await _row(r, chunk, create)
            if done is not None:
                r.action, r.record_id = CREATED, done.id
                found[done.code] = done
        else:

            async def update(p: Product = match, d: dict[str, Any] = data) -> Any:
                return await products.update(
                    chunk.session, chunk.principal, p.id, d, expected_version=None
                )

            done = await _row(r, chunk, update)
            if done is not None:
                r.action, r.record_id = UPDATED, done.id


# --- orders: one order per number, one line per row --------------------------------------------

ORDER_FIELDS = ("number", "ordered_on", "currency", "notes")


def group_orders(results: Sequence[RowResult]) -> list[list[RowResult]]:
    """Rows of one order number together (in file order); a row without a number is an order of
    its own (numbered by the service)."""
    groups: dict[str, list[RowResult]] = {}
    out: list[list[RowResult]] = []
    for r in results:
        number = (r.values.get("number") or "").strip()
        if not number:
            out.append([r])
        elif number in groups:
            groups[number].append(r)
        else:
            groups[number] = [r]
            out.append(groups[number])
    return out


def _order_errors(group: Sequence[RowResult], errors: Sequence[FieldError]) -> None:
    """``lines.<i>.x`` is the row of line i; the rest belongs to the order's first row."""
    per_row: dict[int, list[FieldError]] = {}
    for e in errors:
        parts = (e.field or "").split(".")
        index = 0
        if len(parts) >= 3 and parts[0] == "lines" and parts[1].isdigit():
            index = min(int(parts[1]), len(group) - 1)
            name = {"product_id": "product_code"}.get(parts[2], parts[2])
            e = FieldError(name, e.code, e.message)
        per_row.setdefault(index, []).append(e)
    for i, r in enumerate(group):
        r.fail(
            per_row.get(i)
            or [FieldError(None, ErrorCode.INVALID, "another row of this order failed")]
        )


async def merge_orders(chunk: Chunk, results: Sequence[RowResult]) -> None:
    groups = group_orders(results)
    customer_codes = {_code(r.values.get("customer_code")) or "" for r in results}
    by_customer = await customers_by_code(chunk, customer_codes - {""})
    product_codes = {
        normalize.clean_text(r.values["product_code"])
        for r in results
        if r.values.get("product_code")
    }
    by_product: dict[str, uuid.UUID] = {}
    if product_codes:
        by_code = select(Product.code, Product.id).where(
            Product.code.in_(sorted(c for c in product_codes if c)), Product.deleted_at.is_(None)
        )
        by_product = {c: i for c, i in (await chunk.session.execute(by_code)).all()}
    numbers = sorted({g[0].values["number"].strip() for g in groups if g[0].values.get("number")})
    existing: dict[str, Order] = {}
    if numbers:
        live = select(Order).where(and_(Order.number.in_(numbers), Order.deleted_at.is_(None)))
        existing = {o.number: o for o in (await chunk.session.execute(live)).scalars()}
    for group in groups:
        await _merge_order(chunk, group, by_customer, by_product, existing)


async def _merge_order(
    chunk: Chunk,
    group: list[RowResult],
    by_customer: dict[str, uuid.UUID],
    by_product: dict[str, uuid.UUID],
    existing: dict[str, Order],
) -> None:
    first = group[0]
    errors: list[FieldError] = []
    lines: list[dict[str, Any]] = []
    for i, r in enumerate(group):
        code = normalize.clean_text(r.values.get("product_code") or "")
        if not code:
            errors.append(FieldError(f"lines.{i}.product_code", ErrorCode.REQUIRED, "required"))
            continue
        product_id = by_product.get(code)
        if product_id is None:
            errors.append(
                FieldError(
                    f"lines.{i}.product_code", ErrorCode.NOT_FOUND, "no product with this code"
                )
            )
            continue
        line: dict[str, Any] = {
            "product_id": product_id,
            "quantity": plain_number(r.values.get("quantity") or "1"),
        }
        for name in ("unit_price", "discount"):
            if r.values.get(name):
                line[name] = plain_number(r.values[name])
        lines.append(line)
    data: dict[str, Any] = {k: first.values[k] for k in ORDER_FIELDS if first.values.get(k)}
    if "currency" in data:
        data["currency"] = data["currency"].upper()
    data["lines"] = lines
    number = (first.values.get("number") or "").strip()
    match = existing.get(number) if number else None
    customer_id: uuid.UUID | None = None
    if match is None:
        code = _code(first.values.get("customer_code"))
        if not code:
            errors.append(FieldError("customer_code", ErrorCode.REQUIRED, "required"))
        else:
            customer_id = by_customer.get(code)
            if customer_id is None:
                errors.append(
                    FieldError("customer_code", ErrorCode.NOT_FOUND, "no customer with this code")
                )
    if errors:
        _order_errors(group, errors)
        return
    holder = RowResult(first.row_number, first.values)
    if match is None:
        assert customer_id is not None

        async def create(cid: uuid.UUID = customer_id) -> Any:
            return await orders.create(chunk.session, chunk.principal, cid, data)

        done, action = await _row(holder, chunk, create), CREATED
    else:
        data.pop("number", None)

        async def update(order: Order = match) -> Any:
            return await orders.update(
                chunk.session, chunk.principal, order.id, data, expected_version=None
            )

        done, action = await _row(holder, chunk, update), UPDATED
    if done is None:
        _order_errors(group, holder.errors)
        return
    existing[done.number] = done
    for r in group:
        r.action, r.record_id, r.errors = action, done.id, []
