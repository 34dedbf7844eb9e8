"""Status workflows written as data: each status maps to the statuses it may move to."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from crm_core.errors import DomainError, ErrorCode, FieldError

S = TypeVar("S", bound=enum.Enum)


def check_transition(
    transitions: Mapping[S, frozenset[S]], current: S, new: S, field: str = "status"
) -> None:
    """Staying put is no transition; anything not listed is a field error on ``field``."""
    if new is current or new in transitions.get(current, frozenset()):
        return
    raise DomainError.one(
        field, ErrorCode.INVALID, f"cannot move from {current.value} to {new.value}"
    )


def apply_status(
    fields: dict[str, Any],
    current: S,
    transitions: Mapping[S, frozenset[S]],
    *,
    settled: frozenset[S],
    resolved: S,
) -> None:
    """Check a status change in ``fields`` and fill in what it implies: becoming ``resolved``
    stamps ``resolved_at`` (now, unless given); reopening clears ``resolved_at`` and
    ``satisfaction`` (a verdict on a resolution that no longer stands)."""
    new = fields.get("status")
    if new is None:
        return
    check_transition(transitions, current, new)
    if new is current:
        return
    if new is resolved and fields.get("resolved_at") is None:
        fields["resolved_at"] = datetime.now(UTC)
    if new not in settled and current in settled:
        fields.setdefault("resolved_at", None)
        fields.setdefault("satisfaction", None)


def settlement_errors(
    state: Mapping[str, Any], settled: frozenset[Any], start_field: str
) -> list[FieldError]:
    """``resolved_at`` and ``satisfaction`` belong to a settled record; nothing is resolved before
    it was received."""
    errors: list[FieldError] = []
    is_settled = state["status"] in settled
    if state["resolved_at"] is not None and not is_settled:
        errors.append(FieldError("resolved_at", ErrorCode.INVALID, "only when resolved or closed"))
    if state["satisfaction"] is not None and not is_settled:
        errors.append(FieldError("satisfaction", ErrorCode.INVALID, "only when resolved or closed"))
    start = state[start_field]
    for name in ("handled_at", "resolved_at"):
        if state[name] is not None and start is not None and state[name] < start:
            errors.append(FieldError(name, ErrorCode.INVALID, f"must not be before {start_field}"))
    return errors
