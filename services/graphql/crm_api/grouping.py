"""`<things>GroupBy` and connection `aggregates`, made once for every type from its column map.

A type declares which of its fields may be group keys and which are numeric measures; this module
makes the GraphQL enum and key input for it and the resolver, which reuses the list's base select
and filter so a count never reaches a record the list would not show.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import Select

from crm_api.columns import Col
from crm_api.context import Context, Info
from crm_api.errors import as_graphql_errors, camel
from crm_api.filters import to_spec
from crm_api.listing import ListSpec, measure_values, refuse_personal
from crm_api.permissions import requires
from crm_api.relay import MeasureValue, to_global_id
from crm_core.errors import DomainError, ErrorCode
from crm_core.query import grouping

MakeBase = Callable[[Context, bool, str | None], Select[Any]]


@strawberry.enum(description="Calendar bucket of a date or time key, in the company's time zone.")
class DateBucket(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@strawberry.type(description="One key of a group.")
class GroupKeyValue:
    field: str
    value: str | None = strawberry.field(
        description="Enum name, global id, ISO date (the bucket's first day) or text; null for "
        "records without a value."
    )


@strawberry.type
class GroupByRow:
    keys: list[GroupKeyValue]
    count: int
    measures: list[MeasureValue]


@strawberry.type
class GroupByResult:
    groups: list[GroupByRow]
    truncated: bool = strawberry.field(description="More groups exist beyond `first`.")


@dataclass(frozen=True)
class GroupSpec:
    type_name: str
    keys: Mapping[str, Col]
    measures: Mapping[str, Any]
    id_fields: Mapping[str, str]
    field_enum: Any
    measure_enum: Any
    key_input: Any


def group_spec(
    type_name: str,
    columns: Mapping[str, Col],
    *,
    keys: Sequence[str],
    measures: Sequence[str] = (),
    id_fields: Mapping[str, str],
) -> GroupSpec:
    """``keys``/``measures`` name entries of the type's column maps (FIELDS and HIDDEN merged)."""
    key_cols = {k: columns[k] for k in keys}
    measure_cols = {m: columns[m].column for m in measures}
    fields_cls: type[enum.Enum] = enum.Enum(  # type: ignore[misc]
        f"{type_name}GroupField", {k.upper(): k for k in keys}
    )
    field_enum = strawberry.enum(
        fields_cls, description=f"Fields a {type_name} list can be grouped by."
    )
    measure_enum = None
    if measures:
        measures_cls: type[enum.Enum] = enum.Enum(  # type: ignore[misc]
            f"{type_name}Measure", {m.upper(): m for m in measures}
        )
        measure_enum = strawberry.enum(
            measures_cls, description=f"Numeric fields of {type_name} to total."
        )
    key_input = strawberry.input(
        type(
            f"{type_name}GroupKey",
            (),
            {
                "__annotations__": {"field": field_enum, "bucket": DateBucket | None},
                "bucket": strawberry.field(
                    default=None, description="For dates and times: count per day, week, …"
                ),
            },
        ),
        name=f"{type_name}GroupKey",
    )
    return GroupSpec(
        type_name, key_cols, measure_cols, id_fields, field_enum, measure_enum, key_input
    )


def _key_value(spec: GroupSpec, name: str, value: Any) -> str | None:
    if value is None:
        return None
    if name in spec.id_fields:
        return to_global_id(spec.id_fields[name], value)
    col = spec.keys[name]
    if col.convert is not None:
        converted = col.convert(value)
        if isinstance(converted, enum.Enum):
            return converted.name
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)


def group_by_field(
    spec: GroupSpec,
    lists: ListSpec,
    filter_input: type,
    make_base: MakeBase,
    *,
    permission: str,
    search: bool = True,
) -> Any:
    """The ``<things>GroupBy`` query field for a type."""

    async def resolve(
        info: Info,
        by: list[Any],
        filter: Any = None,
        measures: list[Any] | None = None,
        search: str | None = None,
        include_deleted: bool = False,
        time_zone: str | None = None,
        first: int = 100,
    ) -> GroupByResult:
        async def load() -> GroupByResult:
            ctx = info.context
            spec_filter = to_spec(filter, dict(lists.id_fields))
            if ctx.mask_personal:
                refuse_personal(spec_filter, lists.personal)
            for i, k in enumerate(by):
                if ctx.mask_personal and k.field.value in lists.personal:
                    raise DomainError.one(
                        f"by.{i}.field",
                        ErrorCode.FORBIDDEN,
                        "your role cannot group by personal data",
                    )
            keys = [
                grouping.GroupKey(
                    k.field.value, grouping.Bucket(k.bucket.value) if k.bucket else None
                )
                for k in by
            ]
            async with ctx.tenant_db.read() as session:
                zone = time_zone or await ctx.tenant_time_zone(session)
                result = await grouping.group_by(
                    session,
                    make_base(ctx, include_deleted, search),
                    spec=spec_filter,
                    filter_columns=lists.columns,
                    groupable={k: c.column for k, c in spec.keys.items()},
                    measures=spec.measures,
                    keys=keys,
                    measure_names=[m.value for m in measures or []],
                    time_zone=zone,
                    limit=first,
                )
            return GroupByResult(
                groups=[
                    GroupByRow(
                        keys=[
                            GroupKeyValue(field=camel(k.field), value=_key_value(spec, k.field, v))
                            for k, v in zip(keys, g.keys, strict=True)
                        ],
                        count=g.count,
                        measures=measure_values(g.measures),
                    )
                    for g in result.groups
                ],
                truncated=result.truncated,
            )

        return await as_graphql_errors(load)

    annotations: dict[str, Any] = {
        "info": Info,
        "by": list[spec.key_input],  # type: ignore[name-defined]
        "filter": filter_input | None,
        "search": str | None,
        "include_deleted": bool,
        "time_zone": str | None,
        "first": int,
        "return": GroupByResult,
    }
    if spec.measure_enum is not None:
        annotations["measures"] = list[spec.measure_enum] | None  # type: ignore[name-defined]
    resolve.__annotations__ = annotations
    if spec.measure_enum is None:
        resolve = _without(resolve, "measures")
    if not search:
        resolve = _without(resolve, "search")
    return strawberry.field(
        resolver=resolve,
        description=f"Counts of {spec.type_name} records per key (and per date bucket), with "
        "totals of numeric fields; the same filter and scope as the list. `timeZone` defaults "
        "to the company's.",
        extensions=requires(permission),
    )


def _without(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """The resolver minus one optional argument (the GraphQL field then has no such argument)."""
    import functools
    import inspect

    sig = inspect.signature(fn)

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await fn(*args, **kwargs)

    params = [p for p in sig.parameters.values() if p.name != name]
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != name}
    return wrapper
