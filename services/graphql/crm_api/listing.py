"""One resolver body for every list field: arguments → domain list query → Relay connection."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select
from strawberry.dataloader import DataLoader

from crm_api.columns import Col, filter_columns, sort_columns
from crm_api.context import Context, Info
from crm_api.errors import as_graphql_errors, camel
from crm_api.filters import to_sort_keys, to_spec
from crm_api.relay import Connection, MeasureValue, connection_from_page, from_global_id
from crm_core.errors import DomainError, ErrorCode
from crm_core.query import grouping
from crm_core.query.filters import compile_filter
from crm_core.query.listing import ListQuery, list_page
from crm_core.query.pagination import PageRequest, SortKey

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ListSpec:
    """What a type's list needs: its column map, default order and filter id fields."""

    columns: Mapping[str, Any]
    default_order: Sequence[SortKey]
    id_fields: Mapping[str, str]
    personal: frozenset[str] = frozenset()  # fields a masked viewer may not filter or sort on
    measures: Mapping[str, Any] = field(default_factory=dict)  # numeric fields to total


def list_spec(
    fields: Mapping[str, Col],
    hidden: Mapping[str, Col],
    *,
    default_order: Sequence[SortKey],
    id_fields: Mapping[str, str],
    personal: frozenset[str] = frozenset(),
    measures: Sequence[str] = (),
) -> ListSpec:
    """A type's list spec from its column maps (the visible fields and the hidden id columns)."""
    columns = (
        filter_columns(fields)
        | filter_columns(hidden)
        | sort_columns(fields)
        | sort_columns(hidden)
    )
    merged = {**hidden, **fields}
    return ListSpec(
        columns=columns,
        default_order=default_order,
        id_fields=id_fields,
        personal=personal,
        measures={m: merged[m].column for m in measures},
    )


def measure_values(values: Mapping[str, Mapping[str, Decimal | None]]) -> list[MeasureValue]:
    return [MeasureValue(field=camel(name), **v) for name, v in values.items()]


async def aggregates_of(
    ctx: Context,
    spec: ListSpec,
    base: Select[Any],
    spec_filter: Mapping[str, Any] | None,
    fields: Sequence[str],
) -> list[MeasureValue]:
    """Totals of the named (camelCase) measures over everything the list's filter matches."""
    names = [re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), f) for f in fields]
    async with ctx.tenant_db.read() as session:
        values = await grouping.aggregate(
            session,
            base,
            where=[compile_filter(spec_filter, spec.columns)],
            measures=spec.measures,
            measure_names=names,
        )
    return measure_values(values)


async def one_by_id(
    info: Info, id: str, type_name: str, loader: DataLoader[Any, Any], convert: Callable[[Any], T]
) -> T | None:
    """``thing(id:)``: the global id checked for its type, then the per-request loader (which
    applies the data scope), so a record outside the scope reads as missing."""

    async def load() -> T | None:
        _, pk = from_global_id(id, expect=type_name)
        row = await loader.load(pk)
        return convert(row) if row is not None else None

    return await as_graphql_errors(load)


@dataclass(frozen=True, slots=True)
class ListArgs:
    first: int | None
    after: str | None
    last: int | None
    before: str | None
    filter: Any
    order_by: list[Any] | None
    include_deleted: bool


async def list_connection(
    info: Info,
    spec: ListSpec,
    args: ListArgs,
    make_base: Callable[[], Select[Any]],
    convert: Callable[[Any], T],
    *,
    prime: Callable[[Any], None] | None = None,
) -> Connection[T]:
    async def load() -> Connection[T]:
        spec_filter = to_spec(args.filter, dict(spec.id_fields))
        if info.context.mask_personal:
            refuse_personal(spec_filter, spec.personal)
        query = ListQuery(
            filter=spec_filter,
            order_by=to_sort_keys(args.order_by),
            page=PageRequest(
                first=args.first, after=args.after, last=args.last, before=args.before
            ),
            include_deleted=args.include_deleted,
        )
        async with info.context.tenant_db.read() as session:
            page = await list_page(
                session,
                make_base(),
                query,
                columns=spec.columns,
                default_order=spec.default_order,
                max_size=info.context.settings.graphql.max_page_size,
            )
        if prime is not None:
            for row in page.items:
                prime(row)
        aggregator = None
        if spec.measures:

            async def aggregator(fields: list[str]) -> list[MeasureValue]:
                return await aggregates_of(info.context, spec, make_base(), spec_filter, fields)

        return connection_from_page(page, convert, aggregator)

    return await as_graphql_errors(load)


def refuse_personal(spec: Any, personal: frozenset[str], path: str = "filter") -> None:
    """No filtering on what you may not see: a filter on a masked field could reveal its value."""
    if isinstance(spec, list):
        for i, item in enumerate(spec):
            refuse_personal(item, personal, f"{path}.{i}")
        return
    if not isinstance(spec, dict):
        return
    for key, value in spec.items():
        if key in personal:
            raise DomainError.one(
                f"{path}.{key}", ErrorCode.FORBIDDEN, "your role cannot filter on personal data"
            )
        if key in ("and", "or", "not"):
            refuse_personal(value, personal, f"{path}.{key}")
