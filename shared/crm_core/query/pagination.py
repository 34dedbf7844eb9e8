"""Keyset (cursor) pagination over any ``ORDER BY`` list, with ``id`` as the final tie-breaker.

A cursor holds the sort values of a row and a fingerprint of the ordering it was made for, so a
cursor cannot be replayed against a different ordering. No OFFSET: page N costs what page 1 costs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, or_

from crm_core.errors import DomainError, ErrorCode

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False
    nulls_first: bool | None = None  # None: PostgreSQL's default (NULLs sort as largest)

    @property
    def nulls_come_first(self) -> bool:
        if self.nulls_first is not None:
            return self.nulls_first
        return self.descending


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, Enum):
        return value.value
    return value


_DECODERS: dict[str, Callable[[str], Any]] = {
    "u": uuid.UUID,
    "t": datetime.fromisoformat,
    "d": date.fromisoformat,
    "n": Decimal,
}


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        return _DECODERS[tag](raw)
    return value


def fingerprint(keys: Sequence[SortKey]) -> str:
    text = "|".join(f"{k.field}:{int(k.descending)}:{k.nulls_come_first}" for k in keys)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]


def encode_cursor(keys: Sequence[SortKey], values: Sequence[Any]) -> str:
    payload = json.dumps([fingerprint(keys), [_plain(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(keys: Sequence[SortKey], cursor: str, arg: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fp, values = json.loads(raw)
        if fp != fingerprint(keys) or len(values) != len(keys):
            raise ValueError
        return [_typed(v) for v in values]
    except (ValueError, TypeError, KeyError) as exc:
        raise DomainError.one(
            arg, ErrorCode.INVALID, "not a cursor of this list and ordering"
        ) from exc


def _after(col: Any, key: SortKey, value: Any, *, reverse: bool) -> ColumnElement[bool]:
    """Rows strictly after ``value`` in the key's order (or before, when ``reverse``)."""
    descending = key.descending != reverse
    nulls_first = key.nulls_come_first != reverse
    if value is None:
        return col.is_not(None) if nulls_first else false()
    beyond = col < value if descending else col > value
    return or_(beyond, col.is_(None)) if not nulls_first else beyond


def _equal(col: Any, value: Any) -> ColumnElement[bool]:
    return col.is_(None) if value is None else col == value  # type: ignore[no-any-return]


def keyset_predicate(
    columns: Sequence[Any], keys: Sequence[SortKey], values: Sequence[Any], *, reverse: bool
) -> ColumnElement[bool]:
    branches = []
    for i, (col, key, value) in enumerate(zip(columns, keys, values, strict=True)):
        prefix = [_equal(c, v) for c, v in zip(columns[:i], values[:i], strict=True)]
        branches.append(and_(*prefix, _after(col, key, value, reverse=reverse)))
    return or_(*branches)


def order_clauses(columns: Sequence[Any], keys: Sequence[SortKey], *, reverse: bool) -> list[Any]:
    out = []
    for col, key in zip(columns, keys, strict=True):
        descending = key.descending != reverse
        nulls_first = key.nulls_come_first != reverse
        expr = col.desc() if descending else col.asc()
        out.append(expr.nulls_first() if nulls_first else expr.nulls_last())
    return out


def resolve_keys(
    order_by: Sequence[SortKey], columns: Mapping[str, Any], default: Sequence[SortKey]
) -> tuple[list[SortKey], list[Any]]:
    keys = list(order_by) or list(default)
    if len(keys) > 5:
        raise DomainError.one("orderBy", ErrorCode.LIMIT_EXCEEDED, "sort by at most 5 fields")
    for k in keys:
        if k.field not in columns:
            raise DomainError.one("orderBy", ErrorCode.INVALID, f"cannot sort by {k.field}")
    if keys[-1].field != "id":
        keys.append(SortKey("id", descending=keys[-1].descending))
    return keys, [columns[k.field] for k in keys]


def page_size(req: PageRequest, max_size: int, default: int = 20) -> tuple[int, bool]:
    """(size, backwards). ``first`` and ``last`` together are refused, as Relay advises."""
    if req.first is not None and req.last is not None:
        raise DomainError.one("last", ErrorCode.INVALID, "give first or last, not both")
    size = req.last if req.last is not None else req.first if req.first is not None else default
    arg = "last" if req.last is not None else "first"
    if size < 0 or size > max_size:
        raise DomainError.one(arg, ErrorCode.LIMIT_EXCEEDED, f"page size must be 0..{max_size}")
    return size, req.last is not None or (req.before is not None and req.first is None)


def apply_keyset(
    stmt: Select[Any],
    req: PageRequest,
    keys: Sequence[SortKey],
    columns: Sequence[Any],
    *,
    size: int,
    backwards: bool,
) -> Select[Any]:
    if req.after:
        stmt = stmt.where(
            keyset_predicate(columns, keys, decode_cursor(keys, req.after, "after"), reverse=False)
        )
    if req.before:
        stmt = stmt.where(
            keyset_predicate(columns, keys, decode_cursor(keys, req.before, "before"), reverse=True)
        )
    return stmt.order_by(*order_clauses(columns, keys, reverse=backwards)).limit(size + 1)


def make_page(
    rows: Sequence[T],
    keys: Sequence[SortKey],
    values_of: Any,
    *,
    size: int,
    backwards: bool,
    req: PageRequest,
) -> Page[T]:
    more = len(rows) > size
    items = list(rows[:size])
    if backwards:
        items.reverse()
    cursors = [encode_cursor(keys, values_of(item)) for item in items]
    if backwards:
        return Page(items, cursors, has_next_page=req.before is not None, has_previous_page=more)
    return Page(items, cursors, has_next_page=more, has_previous_page=req.after is not None)
