"""The one place per type that says which column each GraphQL field reads.

A type's ``FIELDS`` maps its Python field name to the column (or SQL expression) behind it and a
converter to the GraphQL value. ``from_model`` reads through it; filters and ``orderBy`` accept
only fields listed in it; and a later query compiler can turn a selection into one SQL statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Col:
    column: Any
    convert: Callable[[Any], Any] | None = None
    filterable: bool = True
    sortable: bool = False


def read_fields(row: Any, fields: Mapping[str, Col]) -> dict[str, Any]:
    out = {}
    for name, col in fields.items():
        value = getattr(row, col.column.key)
        out[name] = col.convert(value) if col.convert is not None and value is not None else value
    return out


def filter_columns(fields: Mapping[str, Col]) -> dict[str, Any]:
    return {name: c.column for name, c in fields.items() if c.filterable}


def sort_columns(fields: Mapping[str, Col]) -> dict[str, Any]:
    return {name: c.column for name, c in fields.items() if c.sortable}
