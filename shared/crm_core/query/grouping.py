"""Counting by field and by time bucket, and numeric aggregates, over any tenant list.

Both take the same base select (scope, liveness, search) and the same filter data as the list
they belong to, so a group or a total never reaches a record the list would not show. Each call
is one SQL statement.
"""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Select, func, literal_column, nulls_last, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import DomainError, ErrorCode
from crm_core.query.filters import compile_filter

MAX_KEYS = 3
MAX_GROUPS = 1000


class Bucket(enum.StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


@dataclass(frozen=True, slots=True)
class GroupKey:
    field: str
    bucket: Bucket | None = None


@dataclass(slots=True)
class Group:
    keys: list[Any]
    count: int
    measures: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupResult:
    groups: list[Group]
    truncated: bool


AGGREGATES = ("sum", "avg", "min", "max")


def check_time_zone(name: str, path: str = "timeZone") -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DomainError.one(path, ErrorCode.INVALID, "not an IANA time zone") from None
    return name


def _is_temporal(column: Any) -> bool:
    return isinstance(getattr(column, "type", None), DateTime | Date)


def _key_expression(column: Any, key: GroupKey, tz: str, path: str) -> Any:
    if key.bucket is None:
        return column
    if not _is_temporal(column):
        raise DomainError.one(path, ErrorCode.INVALID, "only dates and times group by a bucket")
    value = column
    if isinstance(column.type, DateTime) and column.type.timezone:
        # Buckets follow the company's calendar, not UTC: a sale at 01:00 in Shanghai belongs
        # to that day there.
        value = func.timezone(tz, column)
    return func.date_trunc(key.bucket.value, value).cast(Date)


def _measure_columns(
    names: Sequence[str], measures: Mapping[str, Any], path: str
) -> list[tuple[str, Any]]:
    out = []
    for i, name in enumerate(names):
        if name not in measures:
            raise DomainError.one(f"{path}.{i}", ErrorCode.INVALID, f"{name!r} is not a measure")
        out.append((name, measures[name]))
    return out


def _measure_selects(chosen: list[tuple[str, Any]]) -> list[Any]:
    cols = []
    for name, column in chosen:
        cols += [
            func.sum(column).label(f"{name}__sum"),
            func.avg(column).label(f"{name}__avg"),
            func.min(column).label(f"{name}__min"),
            func.max(column).label(f"{name}__max"),
        ]
    return cols


def _read_measures(row: Any, chosen: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, _ in chosen:
        values = {agg: getattr(row, f"{name}__{agg}") for agg in AGGREGATES}
        if values["avg"] is not None:
            values["avg"] = Decimal(values["avg"]).quantize(Decimal("0.01"))
        out[name] = values
    return out


async def group_by(
    session: AsyncSession,
    base: Select[Any],
    *,
    spec: Mapping[str, Any] | None,
    filter_columns: Mapping[str, Any],
    groupable: Mapping[str, Any],
    measures: Mapping[str, Any],
    keys: Sequence[GroupKey],
    measure_names: Sequence[str] = (),
    time_zone: str = "UTC",
    limit: int = 100,
) -> GroupResult:
    """Counts (and measures) per distinct key tuple, in key order, nulls last; at most ``limit``
    groups (``truncated`` says when there were more)."""
    if not keys:
        raise DomainError.one("by", ErrorCode.REQUIRED, "at least one key")
    if len(keys) > MAX_KEYS:
        raise DomainError.one("by", ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_KEYS} keys")
    if not 1 <= limit <= MAX_GROUPS:
        raise DomainError.one("first", ErrorCode.INVALID, f"between 1 and {MAX_GROUPS}")
    tz = check_time_zone(time_zone)
    exprs = []
    for i, key in enumerate(keys):
        if key.field not in groupable:
            raise DomainError.one(f"by.{i}.field", ErrorCode.INVALID, "cannot group by this field")
        expr = _key_expression(groupable[key.field], key, tz, f"by.{i}.bucket")
        exprs.append(expr.label(f"k{i}"))
    chosen = _measure_columns(measure_names, measures, "measures")
    grouped = (
        base.where(compile_filter(spec, filter_columns))
        .with_only_columns(
            *exprs,
            func.count().label("n"),
            *_measure_selects(chosen),
            maintain_column_froms=True,
        )
        .order_by(None)
        .group_by(*(literal_column(f"k{i}") for i in range(len(exprs))))
        .subquery()
    )
    # Ordered and limited outside the grouping: every row is read whatever the limit, and a
    # LIMIT on the grouping itself makes the planner pick a plan that starts fast (a sorted
    # scan joining parents one index probe at a time) over the one that ends fast (hash join).
    stmt = (
        select(grouped)
        .order_by(*(nulls_last(grouped.c[f"k{i}"]) for i in range(len(exprs))))
        .limit(limit + 1)
    )
    rows = (await session.execute(stmt)).all()
    groups = [
        Group(
            keys=[_plain(getattr(r, f"k{i}")) for i in range(len(exprs))],
            count=r.n,
            measures=_read_measures(r, chosen),
        )
        for r in rows[:limit]
    ]
    return GroupResult(groups=groups, truncated=len(rows) > limit)


async def aggregate(
    session: AsyncSession,
    base: Select[Any],
    *,
    where: Sequence[Any],
    measures: Mapping[str, Any],
    measure_names: Sequence[str],
    path: str = "fields",
) -> dict[str, dict[str, Decimal | None]]:
    """Sum, average, minimum and maximum of numeric fields over every row a list matches."""
    chosen = _measure_columns(measure_names, measures, path)
    if not chosen:
        return {}
    stmt = (
        base.where(*where)
        .with_only_columns(*_measure_selects(chosen), maintain_column_froms=True)
        .order_by(None)
    )
    row = (await session.execute(stmt)).one()
    return _read_measures(row, chosen)


def _plain(value: Any) -> Any:
    # Buckets come back as dates (the key is cast to DATE); enums as their stored value.
    return value.value if isinstance(value, enum.Enum) else value
