"""How failures reach a client.

Expected failures are data: each mutation payload has ``errors: [UserError!]!`` with ``field`` (the
GraphQL input path, camelCase), ``code`` and ``message``. Query-side failures and anything
unexpected become GraphQL errors carrying ``extensions.code``; unexpected ones are masked.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from crm_core.errors import DomainError, ErrorCode

log = logging.getLogger(__name__)
T = TypeVar("T")


@strawberry.enum(description="What went wrong, for programs; the message is for people.")
class UserErrorCode(enum.Enum):
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


@strawberry.type(
    description="An expected problem with the input, naming the field when there is one."
)
class UserError:
    field: str | None = strawberry.field(
        description="Input path, e.g. `input.phone` or `input.contacts.0.email`."
    )
    code: UserErrorCode
    message: str


def camel(path: str) -> str:
    return ".".join(
        re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), p) for p in path.split(".")
    )


# Errors about these arguments name them as they are; the rest are inside ``input``.
ARGUMENTS = frozenset(
    {
        "id",
        "ids",
        "inputs",
        "version",
        "filter",
        "orderBy",
        "first",
        "last",
        "after",
        "before",
        "search",
        "by",
        "measures",
        "timeZone",
        "fields",
    }
)


def user_errors(exc: DomainError, *, prefix: str = "input") -> list[UserError]:
    out = []
    for e in exc.errors:
        if e.field is None or e.field.split(".")[0] in ARGUMENTS:
            field = e.field
        else:
            field = f"{prefix}.{camel(e.field)}" if prefix else camel(e.field)
        out.append(UserError(field=field, code=UserErrorCode(e.code.value), message=e.message))
    return out


# Query-side: DomainError → GraphQL error with an extensions.code from the API's vocabulary.
_EXT_CODES = {
    ErrorCode.UNAUTHENTICATED: "UNAUTHENTICATED",
    ErrorCode.SUSPENDED: "FORBIDDEN",
    ErrorCode.FORBIDDEN: "FORBIDDEN",
    ErrorCode.NOT_FOUND: "NOT_FOUND",
    ErrorCode.CONFLICT: "CONFLICT",
    ErrorCode.LIMIT_EXCEEDED: "BAD_USER_INPUT",
}


def graphql_error(exc: DomainError) -> GraphQLError:
    first = exc.errors[0]
    return GraphQLError(
        first.message,
        extensions={
            "code": _EXT_CODES.get(first.code, "BAD_USER_INPUT"),
            "field": camel(first.field) if first.field else None,
        },
    )


async def as_graphql_errors(fn: Callable[[], Awaitable[T]]) -> T:
    try:
        return await fn()
    except DomainError as exc:
        raise graphql_error(exc) from None


def should_mask(error: GraphQLError) -> bool:
    """Mask every unexpected exception raised while resolving: its text may hold personal data or
    SQL. Errors of the request itself (syntax, validation, variable coercion) stay readable."""
    if (error.extensions or {}).get("code"):
        return False
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    if error.path is None:
        return False
    log.error("unexpected error at %s", ".".join(map(str, error.path)), exc_info=original)
    return True
