"""A segment's stored filter: the customers list's filter spec, made JSON-safe to store and typed
again to evaluate, then compiled by the same ``crm_core.query.filters`` the list uses.

The column map comes from the caller (the API's customer column map): the domain does not know
which fields the API exposes, and a segment can only filter on what the customers list can.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement

from crm_core.errors import DomainError, ErrorCode
from crm_core.query.filters import compile_filter

LOGICAL = ("and", "or", "not")


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """The spec as JSON (ids, dates, times and decimals as text)."""
    out: dict[str, Any] = {}
    for key, value in (spec or {}).items():
        if value is None:
            continue
        if key in ("and", "or"):
            out[key] = [to_json(s) for s in value]
        elif key == "not":
            out[key] = to_json(value)
        else:
            out[key] = {op: _json_value(v) for op, v in value.items()}
    return out


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type  # type: ignore[no-any-return]
    except (NotImplementedError, AttributeError):
        return None


def _typed_value(kind: type | None, value: Any) -> Any:
    if isinstance(value, list):
        return [_typed_value(kind, v) for v in value]
    if not isinstance(value, str):
        return value
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    return value


def from_json(spec: Mapping[str, Any] | None, columns: Mapping[str, Any]) -> dict[str, Any]:
    """The stored spec with values typed for their columns again (a field the map no longer has
    is left for ``compile_filter`` to refuse)."""
    out: dict[str, Any] = {}
    for key, value in (spec or {}).items():
        if key in ("and", "or"):
            out[key] = [from_json(s, columns) for s in value]
        elif key == "not":
            out[key] = from_json(value, columns)
        elif key in columns and isinstance(value, Mapping):
            kind = _python_type(columns[key])
            out[key] = {op: _typed_value(kind, v) for op, v in value.items()}
        else:
            out[key] = value
    return out


def refuse_personal(
    spec: Mapping[str, Any] | None, personal: Collection[str], path: str = "filter"
) -> None:
    """No filtering on what the viewer may not see: a segment on a masked field would reveal it,
    whoever saved it."""
    for key, value in (spec or {}).items():
        here = f"{path}.{key}"
        if key in personal:
            raise DomainError.one(
                here, ErrorCode.FORBIDDEN, "your role cannot filter on personal data"
            )
        if key in ("and", "or"):
            for i, item in enumerate(value):
                refuse_personal(item, personal, f"{here}.{i}")
        elif key == "not":
            refuse_personal(value, personal, here)


def predicate(
    spec: Mapping[str, Any] | None,
    columns: Mapping[str, Any],
    *,
    personal: Collection[str] = (),
    masked: bool = False,
) -> ColumnElement[bool]:
    """The SQL condition of a stored (JSON) spec, for a viewer who may or may not see personal
    data. A spec that no longer compiles is a field error on ``filter``."""
    typed = from_json(spec, columns)
    if masked:
        refuse_personal(typed, personal)
    try:
        return compile_filter(typed, columns)
    except (ValueError, TypeError) as exc:
        raise DomainError.one("filter", ErrorCode.INVALID, str(exc)) from None
