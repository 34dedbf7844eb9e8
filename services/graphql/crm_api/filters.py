"""Typed filter inputs shared by every entity, and their translation to the domain's filter data."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
from decimal import Decimal
from typing import Any

import strawberry

from crm_api.relay import NullsOrder, OrderDirection, from_global_id
from crm_core.errors import DomainError, ErrorCode
from crm_core.query.pagination import SortKey

MAX_IN = 500


@strawberry.input(description="Text comparisons; `contains` and `startsWith` ignore case.")
class StringFilter:
    eq: str | None = None
    neq: str | None = None
    in_: list[str] | None = strawberry.field(name="in", default=None)
    contains: str | None = None
    starts_with: str | None = None
    is_null: bool | None = None


@strawberry.input(description="Global-id comparisons.")
class IDFilter:
    eq: strawberry.ID | None = None
    neq: strawberry.ID | None = None
    in_: list[strawberry.ID] | None = strawberry.field(name="in", default=None)
    is_null: bool | None = None


@strawberry.input
class DateTimeFilter:
    eq: datetime.datetime | None = None
    gt: datetime.datetime | None = None
    gte: datetime.datetime | None = None
    lt: datetime.datetime | None = None
    lte: datetime.datetime | None = None
    is_null: bool | None = None


@strawberry.input
class DateFilter:
    eq: datetime.date | None = None
    gt: datetime.date | None = None
    gte: datetime.date | None = None
    lt: datetime.date | None = None
    lte: datetime.date | None = None
    is_null: bool | None = None


@strawberry.input(description="Number comparisons (amounts, quantities).")
class DecimalFilter:
    eq: Decimal | None = None
    gt: Decimal | None = None
    gte: Decimal | None = None
    lt: Decimal | None = None
    lte: Decimal | None = None
    is_null: bool | None = None


@strawberry.input(description="Whole-number comparisons (percentages, counts).")
class IntFilter:
    eq: int | None = None
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None
    is_null: bool | None = None


@strawberry.input
class BooleanFilter:
    eq: bool | None = None
    is_null: bool | None = None


@strawberry.input(description="For list fields: `has` keeps rows whose list contains the value.")
class StringListFilter:
    has: str | None = None


@functools.cache
def enum_filter(gql_enum: type[enum.Enum]) -> type:
    """``<Enum>Filter`` input for a GraphQL enum (one class per enum, made once)."""
    name = f"{gql_enum.__name__}Filter"
    cls = type(
        name,
        (),
        {
            "__annotations__": {
                "eq": gql_enum | None,
                "neq": gql_enum | None,
                "in_": list[gql_enum] | None,  # type: ignore[valid-type]
                "is_null": bool | None,
            },
            "eq": None,
            "neq": None,
            "in_": strawberry.field(name="in", default=None),
            "is_null": None,
        },
    )
    return strawberry.input(cls, name=name)


_OP_NAMES = {"in_": "in", "starts_with": "startsWith", "is_null": "isNull"}


def _plain(value: Any, id_type: str | None, path: str) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        if len(value) > MAX_IN:
            raise DomainError.one(path, ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_IN} values")
        return [_plain(v, id_type, path) for v in value]
    if id_type is not None and isinstance(value, str):
        return from_global_id(value, field=path, expect=id_type)[1]
    return value


def to_spec(
    filter_input: Any, id_fields: dict[str, str], path: str = "filter"
) -> dict[str, Any] | None:
    """A filter input object → ``{"and": [...], "<field>": {"<op>": value}}`` for crm_core.query."""
    if filter_input is None:
        return None
    spec: dict[str, Any] = {}
    for f in dataclasses.fields(filter_input):
        value = getattr(filter_input, f.name)
        if value is None:
            continue
        if f.name in ("and_", "or_"):
            key = f.name.rstrip("_")
            spec[key] = [to_spec(v, id_fields, f"{path}.{key}") for v in value]
        elif f.name == "not_":
            spec["not"] = to_spec(value, id_fields, f"{path}.not")
        else:
            ops = {}
            for op in dataclasses.fields(value):
                v = getattr(value, op.name)
                if v is not None:
                    ops[_OP_NAMES.get(op.name, op.name)] = _plain(
                        v, id_fields.get(f.name), f"{path}.{f.name}"
                    )
            spec[f.name] = ops
    return spec


def to_sort_keys(order_by: list[Any] | None) -> list[SortKey]:
    """``[{field: NAME, direction: DESC, nulls: LAST}]`` → SortKeys on the column-map names."""
    keys = []
    for item in order_by or []:
        keys.append(
            SortKey(
                field=item.field.value,
                descending=item.direction is OrderDirection.DESC,
                nulls_first=None if item.nulls is None else item.nulls is NullsOrder.FIRST,
            )
        )
    return keys
