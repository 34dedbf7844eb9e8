"""One list query for any tenant table: filter, search, keyset page and total count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.query.filters import compile_filter
from crm_core.query.pagination import (
    Page,
    PageRequest,
    SortKey,
    apply_keyset,
    make_page,
    page_size,
    resolve_keys,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: Mapping[str, Any] | None = None
    order_by: Sequence[SortKey] = ()
    page: PageRequest = field(default_factory=PageRequest)
    include_deleted: bool = False


async def list_page(
    session: AsyncSession,
    base: Select[Any],
    query: ListQuery,
    *,
    columns: Mapping[str, Any],
    default_order: Sequence[SortKey],
    max_size: int,
    extra_where: Sequence[ColumnElement[bool]] = (),
    with_total: bool = True,
) -> Page[Any]:
    """Runs at most two statements: the page, and ``count(*)`` over the same filter."""
    keys, sort_columns = resolve_keys(query.order_by, columns, default_order)
    size, backwards = page_size(query.page, max_size)
    where = [compile_filter(query.filter, columns), *extra_where]
    filtered = base.where(*where)
    stmt = apply_keyset(filtered, query.page, keys, sort_columns, size=size, backwards=backwards)
    rows = (await session.execute(stmt)).scalars().all()
    field_names = [k.field for k in keys]
    page = make_page(
        rows,
        keys,
        lambda row: [_value(row, f, columns) for f in field_names],
        size=size,
        backwards=backwards,
        req=query.page,
    )
    if with_total:
        count_stmt = select(func.count()).select_from(filtered.order_by(None).subquery())
        page.extra["total_count"] = (await session.execute(count_stmt)).scalar_one()
    return page


def _value(row: Any, name: str, columns: Mapping[str, Any]) -> Any:
    return getattr(row, columns[name].key)
