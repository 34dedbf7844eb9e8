"""Relay pieces: global ids, the Node interface, PageInfo and connections."""

from __future__ import annotations

import base64
import binascii
import enum
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

import strawberry

from crm_api.errors import as_graphql_errors
from crm_core.errors import DomainError, ErrorCode
from crm_core.query.pagination import Page

T = TypeVar("T")


def to_global_id(type_name: str, record_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{record_id}".encode()).decode().rstrip("=")


def from_global_id(
    global_id: str, *, field: str = "id", expect: str | None = None
) -> tuple[str, uuid.UUID]:
    """Parse ``Type:uuid``; a malformed id, or one of another type, is a field error."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, raw_id = raw.partition(":")
        parsed = uuid.UUID(raw_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise DomainError.one(field, ErrorCode.INVALID, "not a valid id") from None
    if expect is not None and type_name != expect:
        raise DomainError.one(field, ErrorCode.INVALID, f"not a {expect} id")
    return type_name, parsed


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="Sum, average, minimum and maximum of one numeric field.")
class MeasureValue:
    field: str
    sum: Decimal | None
    avg: Decimal | None
    min: Decimal | None
    max: Decimal | None


Aggregator = Callable[[list[str]], Awaitable[list[MeasureValue]]]


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Rows matching the filter, across all pages.")
    _aggregator: strawberry.Private[Aggregator | None] = None

    @strawberry.field(
        description="Totals over every row matching the filter (not only this page) of the "
        'named numeric fields, e.g. `aggregates(fields: ["expectedAmount"])`; one SQL '
        "statement."
    )
    async def aggregates(self, fields: list[str]) -> list[MeasureValue]:
        aggregator = self._aggregator
        if aggregator is None:
            if fields:
                raise DomainError.one("fields", ErrorCode.INVALID, "this list has no measures")
            return []
        return await as_graphql_errors(lambda: aggregator(fields))


@strawberry.enum(description="Where rows with no value go.")
class NullsOrder(enum.Enum):
    FIRST = "first"
    LAST = "last"


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


def connection_from_page(
    page: Page[Any], convert: Callable[[Any], T], aggregator: Aggregator | None = None
) -> Connection[T]:
    edges = [
        Edge(cursor=c, node=convert(item)) for item, c in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.extra.get("total_count", 0),
        _aggregator=aggregator,
    )
