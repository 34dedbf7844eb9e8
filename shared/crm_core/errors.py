"""Expected failures of the domain. Each carries a machine code and, where it applies, the field.

The API turns these into payload errors (``errors { field code message }``); anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    DUPLICATE = "DUPLICATE"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    SUSPENDED = "SUSPENDED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str | None
    code: ErrorCode
    message: str


class DomainError(Exception):
    """An expected failure; ``errors`` lists every problem found, so a form can show them all."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field or '-'}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str | None, code: ErrorCode, message: str) -> DomainError:
        return cls([FieldError(field, code, message)])

    @property
    def code(self) -> ErrorCode:
        return self.errors[0].code


class NotFound(DomainError):
    """Missing and not-yours are the same answer."""

    def __init__(self, field: str | None = "id", what: str = "record") -> None:
        super().__init__([FieldError(field, ErrorCode.NOT_FOUND, f"{what} not found")])


class Conflict(DomainError):
    def __init__(self, message: str = "the record was changed by someone else; reload it") -> None:
        super().__init__([FieldError("version", ErrorCode.CONFLICT, message)])


class Forbidden(DomainError):
    def __init__(self, message: str = "not allowed") -> None:
        super().__init__([FieldError(None, ErrorCode.FORBIDDEN, message)])


class Unauthenticated(DomainError):
    def __init__(self, message: str = "sign-in required") -> None:
        super().__init__([FieldError(None, ErrorCode.UNAUTHENTICATED, message)])


class TenantSuspended(DomainError):
    def __init__(self) -> None:
        super().__init__(
            [FieldError(None, ErrorCode.SUSPENDED, "this company's account is suspended")]
        )
