"""Product use cases. The catalogue is the company's: no data scope, written by those with
``product:*`` (owner, admin, manager). A code names one live product; restoring a product whose
code was taken meanwhile is refused on ``code``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.products import repository
from crm_core.products.models import Product
from crm_core.products.schemas import ProductFields
from crm_core.tenants.models import Tenant
from crm_core.validation import parse

WHAT = "product"
REQUIRED = ("code", "name")
NOT_NULL = (*REQUIRED, "unit_price", "currency", "active")
DUPLICATE_CODE = "another product has this code"


async def default_currency(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    """The company's currency (tenants.currency, CNY unless set). Works from a tenant-bound
    session: core tables carry their schema explicitly."""
    stmt = select(Tenant.currency).where(Tenant.id == tenant_id)
    return (await session.execute(stmt)).scalar_one_or_none() or "CNY"


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(ProductFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("code", "name", "category", "unit"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    if fields.get("description") is not None:
        fields["description"] = normalize.clean_multiline(fields["description"])
    return fields


def refresh_search(p: Product) -> None:
    p.search_text = normalize.search_text(p.code, p.name, p.category)


async def _flush(session: AsyncSession) -> None:
    """The partial unique index decides a race between two writers of the same code."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_products_live_code" in str(exc.orig):
            raise DomainError.one("code", ErrorCode.DUPLICATE, DUPLICATE_CODE) from None
        raise


async def create(session: AsyncSession, principal: Principal, data: Mapping[str, Any]) -> Product:
    fields = _fields(data)
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in REQUIRED if not fields.get(f)]
    if missing:
        raise DomainError(missing)
    for name in ("unit_price", "currency", "active"):
        if name in fields and fields[name] is None:
            del fields[name]
    fields.setdefault("currency", await default_currency(session, principal.tenant.id))
    if await repository.get_by_code(session, fields["code"]) is not None:
        raise DomainError.one("code", ErrorCode.DUPLICATE, DUPLICATE_CODE)
    product = Product(**fields, created_by=principal.user_id, updated_by=principal.user_id)
    refresh_search(product)
    session.add(product)
    await _flush(session)
    audit.record(session, principal, "create", WHAT, product.id, audit.snapshot(product))
    return product


async def create_many(
    session: AsyncSession, principal: Principal, items: Sequence[Mapping[str, Any]]
) -> list[Product]:
    """All or nothing: an error in item ``i`` names ``{i}.field`` and nothing is written."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create(session, principal, item))
        except DomainError as exc:
            raise DomainError(
                [
                    FieldError(f"{i}.{e.field}" if e.field else str(i), e.code, e.message)
                    for e in exc.errors
                ]
            ) from None
    return out


async def update(
    session: AsyncSession,
    principal: Principal,
    product_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Product:
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    product = await records.get_for_write(session, Product, product_id, expected_version, WHAT)
    new_code = fields.get("code")
    if (
        new_code is not None
        and new_code != product.code
        and await repository.get_by_code(session, new_code, exclude=product.id) is not None
    ):
        raise DomainError.one("code", ErrorCode.DUPLICATE, DUPLICATE_CODE)
    return await records.apply_update(
        session, principal, product, fields, WHAT, refresh=refresh_search, flush=_flush
    )


async def soft_delete(
    session: AsyncSession,
    principal: Principal,
    product_id: uuid.UUID,
    *,
    expected_version: int | None,
) -> Product:
    """Lines on opportunities keep pointing at it; it is no longer listed nor offered."""
    return await records.soft_delete(
        session, principal, Product, product_id, expected_version=expected_version, what=WHAT
    )


async def restore(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> Product:
    product = await repository.get(session, product_id, include_deleted=True)
    if (
        product is not None
        and product.deleted_at is not None
        and await repository.get_by_code(session, product.code) is not None
    ):
        raise DomainError.one("code", ErrorCode.DUPLICATE, DUPLICATE_CODE)
    return await records.restore(session, principal, Product, product_id, WHAT)


async def destroy(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> uuid.UUID:
    """Refused while any opportunity (or later, order) line names it: history must keep its
    product. Soft delete is the way to retire a product that was ever sold or offered."""
    try:
        async with session.begin_nested():
            return await records.destroy(session, principal, Product, product_id, WHAT)
    except IntegrityError:
        raise DomainError.one(
            "id", ErrorCode.CONFLICT, "the product is on opportunities or orders; delete it instead"
        ) from None
