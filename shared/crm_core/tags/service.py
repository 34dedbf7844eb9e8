"""Tag use cases. The catalogue (create, rename, recolour, delete) is managed by managers and
admins; tagging customers is everyday sales work, on customers inside the writer's data scope.

Membership is the customer's ``tags`` array, by name: a rename rewrites every customer's array
(the whole tenant's, soft-deleted customers too, so a restore stays consistent) and a destroy
removes the name from them, in the same transaction as the tag itself. A soft delete keeps the
arrays, so a restore brings the tag back with its customers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.tags import repository
from crm_core.tags.models import Tag
from crm_core.tags.schemas import TagFields
from crm_core.validation import parse

WHAT = "tag"
MAX_CUSTOMERS = 500  # per tagCustomers / untagCustomers call
MAX_TAGS_PER_CUSTOMER = 30  # as CustomerFields.tags


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(TagFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("name", "category"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    if fields.get("description") is not None:
        fields["description"] = normalize.clean_multiline(fields["description"])
    if fields.get("color") is not None:
        fields["color"] = fields["color"].upper()
    return fields


async def _check_name_free(
    session: AsyncSession, name: str, exclude: uuid.UUID | None = None
) -> None:
    if await repository.get_by_name(session, name, exclude=exclude) is not None:
        raise DomainError.one("name", ErrorCode.DUPLICATE, "another tag has this name")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent writer took the name between check and write
        if "uq_tags_live_name" in str(exc.orig):
            raise DomainError.one(
                "name", ErrorCode.DUPLICATE, "another tag has this name"
            ) from None
        raise


async def create(session: AsyncSession, principal: Principal, data: Mapping[str, Any]) -> Tag:
    fields = _fields(data)
    if not fields.get("name"):
        raise DomainError.one("name", ErrorCode.REQUIRED, "required")
    await _check_name_free(session, fields["name"])
    tag = Tag(**fields, created_by=principal.user_id, updated_by=principal.user_id)
    session.add(tag)
    await _flush(session)
    audit.record(session, principal, "create", WHAT, tag.id, audit.snapshot(tag))
    return tag


async def create_many(
    session: AsyncSession, principal: Principal, items: Sequence[Mapping[str, Any]]
) -> list[Tag]:
    """All or nothing: an error in item ``i`` names ``{i}.field``."""
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


def _carries(*names: str) -> ColumnElement[bool]:
    """Customers whose tags hold all of ``names`` (``tags @> ARRAY[…]``)."""
    return Customer.tags.op("@>")(array(list(names)))


async def _rename_on_customers(session: AsyncSession, old: str, new: str) -> int:
    """Rewrite ``old`` as ``new`` in every customer's tags; a customer already carrying ``new``
    just loses ``old``. Each changed customer's version moves (an open form sees the change)."""
    if old == new:
        return 0
    both = await session.execute(
        sql_update(Customer)
        .where(_carries(old, new))
        .values(tags=func.array_remove(Customer.tags, old), version=Customer.version + 1)
        .execution_options(synchronize_session=False)
    )
    only_old = await session.execute(
        sql_update(Customer)
        .where(_carries(old))
        .values(tags=func.array_replace(Customer.tags, old, new), version=Customer.version + 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(both, "rowcount", 0) or 0) + int(getattr(only_old, "rowcount", 0) or 0)


async def _remove_from_customers(session: AsyncSession, name: str) -> int:
    result = await session.execute(
        sql_update(Customer)
        .where(_carries(name))
        .values(tags=func.array_remove(Customer.tags, name), version=Customer.version + 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def update(
    session: AsyncSession,
    principal: Principal,
    tag_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Tag:
    fields = _fields(data)
    if "name" in fields and not fields["name"]:
        raise DomainError.one("name", ErrorCode.REQUIRED, "cannot be empty")
    tag = await records.get_for_write(session, Tag, tag_id, expected_version, WHAT)
    old_name = tag.name
    extra: dict[str, Any] = {}
    if fields.get("name") and fields["name"] != old_name:
        await _check_name_free(session, fields["name"], exclude=tag.id)
        extra["customers_retagged"] = await _rename_on_customers(session, old_name, fields["name"])
    return await records.apply_update(
        session, principal, tag, fields, WHAT, flush=_flush, extra_changes=extra
    )


async def soft_delete(
    session: AsyncSession, principal: Principal, tag_id: uuid.UUID, *, expected_version: int | None
) -> Tag:
    return await records.soft_delete(
        session, principal, Tag, tag_id, expected_version=expected_version, what=WHAT
    )


async def restore(session: AsyncSession, principal: Principal, tag_id: uuid.UUID) -> Tag:
    """A name taken by a live tag meanwhile is a DUPLICATE on ``name``: rename one of them."""
    tag = await repository.get(session, tag_id, include_deleted=True)
    if tag is None:
        raise NotFound("id", WHAT)
    if tag.deleted_at is not None:
        await _check_name_free(session, tag.name, exclude=tag.id)
    return await records.restore(session, principal, Tag, tag_id, WHAT)


async def destroy(session: AsyncSession, principal: Principal, tag_id: uuid.UUID) -> uuid.UUID:
    tag = await repository.get(session, tag_id, include_deleted=True)
    if tag is None:
        raise NotFound("id", WHAT)
    # A live tag of the same name (this one soft-deleted) keeps its customers.
    if tag.deleted_at is None or await repository.get_by_name(session, tag.name) is None:
        removed = await _remove_from_customers(session, tag.name)
    else:
        removed = 0
    destroyed = await records.destroy(session, principal, Tag, tag_id, WHAT)
    if removed:
        audit.record(session, principal, "untag", WHAT, tag_id, {"customers_untagged": removed})
    return destroyed


async def _customers_for_tagging(
    session: AsyncSession,
    principal: Principal,
    tag_id: uuid.UUID,
    customer_ids: Sequence[uuid.UUID],
) -> tuple[Tag, list[Customer]]:
    if not customer_ids:
        raise DomainError.one("customer_ids", ErrorCode.REQUIRED, "name at least one customer")
    if len(customer_ids) > MAX_CUSTOMERS:
        raise DomainError.one(
            "customer_ids", ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_CUSTOMERS} per call"
        )
    tag = await repository.get(session, tag_id)
    if tag is None:
        raise NotFound("tag_id", WHAT)
    # Only customers in the writer's data scope (and tenant): anything else is "not found".
    found = {
        c.id: c
        for c in await customers_repo.get_many(session, customer_ids, scope=principal.data_scope)
    }
    missing = [i for i, cid in enumerate(customer_ids) if cid not in found]
    if missing:
        raise DomainError(
            [
                FieldError(f"customer_ids.{i}", ErrorCode.NOT_FOUND, "customer not found")
                for i in missing
            ]
        )
    ordered = [found[cid] for cid in dict.fromkeys(customer_ids)]
    return tag, ordered


def _set_tags(
    session: AsyncSession, principal: Principal, customer: Customer, tags: list[str], action: str
) -> None:
    before = list(customer.tags or [])
    customer.tags = tags
    customer.updated_by = principal.user_id
    audit.record(session, principal, action, "customer", customer.id, {"tags": [before, tags]})


async def tag_customers(
    session: AsyncSession,
    principal: Principal,
    tag_id: uuid.UUID,
    customer_ids: Sequence[uuid.UUID],
) -> tuple[Tag, list[Customer]]:
    """All or nothing. Customers already carrying the tag are left as they are."""
    tag, customers = await _customers_for_tagging(session, principal, tag_id, customer_ids)
    errors = []
    for customer in customers:
        if tag.name in (customer.tags or []):
            continue
        tags = sorted({*(customer.tags or []), tag.name})
        if len(tags) > MAX_TAGS_PER_CUSTOMER:
            index = list(customer_ids).index(customer.id)
            errors.append(
                FieldError(
                    f"customer_ids.{index}",
                    ErrorCode.LIMIT_EXCEEDED,
                    f"a customer holds at most {MAX_TAGS_PER_CUSTOMER} tags",
                )
            )
            continue
        _set_tags(session, principal, customer, tags, "tag")
    if errors:
        raise DomainError(errors)
    await session.flush()  # the version column moves with each changed customer
    return tag, customers


async def untag_customers(
    session: AsyncSession,
    principal: Principal,
    tag_id: uuid.UUID,
    customer_ids: Sequence[uuid.UUID],
) -> tuple[Tag, list[Customer]]:
    tag, customers = await _customers_for_tagging(session, principal, tag_id, customer_ids)
    for customer in customers:
        if tag.name in (customer.tags or []):
            _set_tags(
                session, principal, customer, [t for t in customer.tags if t != tag.name], "untag"
            )
    await session.flush()
    return tag, customers
