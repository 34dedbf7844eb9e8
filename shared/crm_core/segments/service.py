"""Segment use cases: a segment is a named customer filter, private to its owner or shared with
the company. The filter is checked when saved by compiling it exactly as the customers list does
(and, for a role that sees personal data masked, refused when it touches that data)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.segments import repository, specs
from crm_core.segments.models import Segment
from crm_core.segments.schemas import SegmentFields
from crm_core.validation import parse

WHAT = "segment"


def _fields(
    data: Mapping[str, Any],
    principal: Principal,
    *,
    columns: Mapping[str, Any],
    personal: Collection[str],
) -> dict[str, Any]:
    raw = dict(data)
    has_filter = "filter" in raw
    spec = raw.pop("filter", None)
    parsed = parse(SegmentFields, raw)
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("name") is not None:
        fields["name"] = normalize.clean_text(fields["name"])
    if fields.get("description") is not None:
        fields["description"] = normalize.clean_multiline(fields["description"])
    if has_filter:
        stored = specs.to_json(spec)
        # The same checks the list makes: compiled as stored, as the saver would see it.
        specs.predicate(stored, columns, personal=personal, masked=not principal.sees_personal_data)
        fields["filter"] = stored
    return fields


async def create(
    session: AsyncSession,
    principal: Principal,
    data: Mapping[str, Any],
    *,
    columns: Mapping[str, Any],
    personal: Collection[str] = (),
) -> Segment:
    fields = _fields(data, principal, columns=columns, personal=personal)
    if not fields.get("name"):
        raise DomainError.one("name", ErrorCode.REQUIRED, "required")
    fields.setdefault("filter", {})
    fields.setdefault("shared", False)
    segment = Segment(
        **fields,
        owner_id=principal.user_id,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    session.add(segment)
    await session.flush()
    audit.record(session, principal, "create", WHAT, segment.id, audit.snapshot(segment))
    return segment


async def create_many(
    session: AsyncSession,
    principal: Principal,
    items: Sequence[Mapping[str, Any]],
    *,
    columns: Mapping[str, Any],
    personal: Collection[str] = (),
) -> list[Segment]:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create(session, principal, item, columns=columns, personal=personal))
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
    segment_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
    columns: Mapping[str, Any],
    personal: Collection[str] = (),
) -> Segment:
    fields = _fields(data, principal, columns=columns, personal=personal)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in ("name", "shared")
        if f in fields and fields[f] in (None, "")
    ]
    if cleared:
        raise DomainError(cleared)
    if "filter" in fields and fields["filter"] is None:
        fields["filter"] = {}
    segment = await records.get_for_write(
        session, Segment, segment_id, expected_version, WHAT, visible=repository.writable(principal)
    )
    return await records.apply_update(session, principal, segment, fields, WHAT)


async def customer_counts(
    session: AsyncSession,
    principal: Principal,
    filters: Sequence[Mapping[str, Any]],
    *,
    columns: Mapping[str, Any],
    personal: Collection[str] = (),
) -> list[int | DomainError]:
    """Live customers in the viewer's scope matching each stored filter, all in one statement
    (``count(*) FILTER (WHERE …)`` per filter). A filter the viewer may not evaluate (on personal
    data for a masked role, or one that no longer compiles) gets its error instead of a count."""
    results: list[int | DomainError] = []
    counted: list[tuple[int, Any]] = []
    masked = not principal.sees_personal_data
    for i, spec in enumerate(filters):
        try:
            condition = specs.predicate(spec, columns, personal=personal, masked=masked)
        except DomainError as exc:
            results.append(exc)
            continue
        results.append(0)
        counted.append((i, func.count().filter(condition)))
    if counted:
        stmt = (
            select(*(c for _, c in counted))
            .select_from(Customer)
            .where(customers_repo.live(), customers_repo.visible(principal.data_scope))
        )
        row = (await session.execute(stmt)).one()
        for (i, _), value in zip(counted, row, strict=True):
            results[i] = int(value)
    return results


_lifecycle = records.Lifecycle(Segment, WHAT, repository.writable)
soft_delete = _lifecycle.soft_delete
restore = _lifecycle.restore
destroy = _lifecycle.destroy
