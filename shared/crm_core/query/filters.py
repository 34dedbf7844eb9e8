"""Filters as data: ``{"and": [...], "or": [...], "not": {...}, "<field>": {"<op>": value}}``.

Fields are looked up in the type's column map (the one place that says what a field reads), so a
filter can only touch columns the API exposes. Nesting and list sizes are bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from crm_core.errors import DomainError, ErrorCode

MAX_DEPTH = 6
MAX_IN = 500
MAX_CONDITIONS = 100


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(col: Any, v: Any) -> ColumnElement[bool]:
    return col.ilike(f"%{_escape_like(str(v))}%", escape="\\")  # type: ignore[no-any-return]


def _starts(col: Any, v: Any) -> ColumnElement[bool]:
    return col.ilike(f"{_escape_like(str(v))}%", escape="\\")  # type: ignore[no-any-return]


def _in(col: Any, v: Any) -> ColumnElement[bool]:
    if len(v) > MAX_IN:
        raise ValueError(f"at most {MAX_IN} values")
    return col.in_(list(v))  # type: ignore[no-any-return]


def _is_null(col: Any, v: Any) -> ColumnElement[bool]:
    return col.is_(None) if v else col.is_not(None)  # type: ignore[no-any-return]


OPERATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "eq": lambda c, v: c == v,
    "neq": lambda c, v: c.is_distinct_from(v),
    "in": _in,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
    "contains": _contains,
    "startsWith": _starts,
    "isNull": _is_null,
    "has": lambda c, v: c.any(v),  # array columns: contains this element
}


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_CONDITIONS

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise DomainError.one(
                "filter", ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_CONDITIONS} conditions"
            )


def compile_filter(
    spec: Mapping[str, Any] | None, columns: Mapping[str, Any], *, path: str = "filter"
) -> ColumnElement[bool]:
    """A SQL predicate for ``spec``; unknown fields or operators are a field error."""
    if not spec:
        return true()
    return _compile(spec, columns, path, 0, _Budget())


def _compile(
    spec: Mapping[str, Any], columns: Mapping[str, Any], path: str, depth: int, budget: _Budget
) -> ColumnElement[bool]:
    if depth > MAX_DEPTH:
        raise DomainError.one(
            path, ErrorCode.LIMIT_EXCEEDED, f"filters nest at most {MAX_DEPTH} deep"
        )
    parts: list[ColumnElement[bool]] = []
    for key, value in spec.items():
        if value is None:
            continue
        here = f"{path}.{key}"
        if key == "and":
            parts.append(
                and_(true(), *(_compile(s, columns, here, depth + 1, budget) for s in value))
            )
        elif key == "or":
            parts.append(
                or_(false(), *(_compile(s, columns, here, depth + 1, budget) for s in value))
            )
        elif key == "not":
            parts.append(not_(_compile(value, columns, here, depth + 1, budget)))
        elif key in columns:
            parts.extend(_field(columns[key], value, here, budget))
        else:
            raise DomainError.one(here, ErrorCode.INVALID, "no such field to filter on")
    return and_(true(), *parts)


def _field(
    column: Any, ops: Mapping[str, Any], path: str, budget: _Budget
) -> list[ColumnElement[bool]]:
    out = []
    for op, value in ops.items():
        if value is None:
            continue
        fn = OPERATORS.get(op)
        if fn is None:
            raise DomainError.one(f"{path}.{op}", ErrorCode.INVALID, "unknown operator")
        budget.spend()
        try:
            out.append(fn(column, value))
        except (ValueError, TypeError) as exc:
            raise DomainError.one(f"{path}.{op}", ErrorCode.INVALID, str(exc)) from None
    return out
