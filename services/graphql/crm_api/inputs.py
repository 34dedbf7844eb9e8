"""Turning mutation inputs into the plain data the domain services take."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from strawberry import UNSET

from crm_api.relay import from_global_id


def input_data(obj: Any, *, id_fields: dict[str, str] | None = None) -> dict[str, Any]:
    """Only the fields the caller set (UNSET is left out; an explicit null clears the field)."""
    id_fields = id_fields or {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is UNSET:
            continue
        out[f.name] = _plain(value, id_fields.get(f.name), f.name)
    return out


def _plain(value: Any, id_type: str | None, path: str) -> Any:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v, id_type, f"{path}.{i}") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return input_data(value)
    if id_type is not None:
        return from_global_id(str(value), field=path, expect=id_type)[1]
    return value
