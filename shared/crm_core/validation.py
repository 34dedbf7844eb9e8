"""Turning pydantic validation into field errors, and shared input pieces."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from crm_core.errors import DomainError, ErrorCode, FieldError

M = TypeVar("M", bound=BaseModel)

_CODES = {
    "missing": ErrorCode.REQUIRED,
    "string_too_short": ErrorCode.REQUIRED,  # every min_length in our inputs is 1: empty
    "string_too_long": ErrorCode.TOO_LONG,
    "too_long": ErrorCode.TOO_LONG,
}


def _field_of(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "input"


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` into ``model``; every problem becomes a FieldError naming its field.

    Messages never repeat the rejected value: it may be personal data.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(
                _field_of(err["loc"]),
                _CODES.get(err["type"], ErrorCode.INVALID),
                err["msg"],
            )
            for err in exc.errors(include_input=False, include_url=False)
        ]
        raise DomainError(errors) from None
