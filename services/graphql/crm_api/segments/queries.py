"""Segment queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Info
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_api.segments import inputs as I
from crm_api.segments.types import FIELDS, HIDDEN, Segment
from crm_core.query.pagination import SortKey
from crm_core.segments import repository

LIST = list_spec(FIELDS, HIDDEN, default_order=(SortKey("name"),), id_fields=I.ID_FIELDS)


@strawberry.type
class SegmentQueries:
    @strawberry.field(
        description="One segment by global id (shared, or yours).",
        extensions=requires("segment:read"),
    )
    async def segment(self, info: Info, id: strawberry.ID) -> Segment | None:
        loader = info.context.loaders.segment_by_id
        return await one_by_id(info, id, "Segment", loader, Segment.from_model)

    @strawberry.field(
        description="The company's shared segments and your own, by name unless ordered.",
        extensions=requires("segment:read"),
    )
    async def segments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.SegmentFilter | None = None,
        order_by: list[I.SegmentOrderBy] | None = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words in the segment's name.")
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Segment]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        ctx = info.context
        loader = ctx.loaders.segment_by_id

        def base() -> Select[Any]:
            return repository.base_select(
                ctx.require_principal(), include_deleted=include_deleted, search=search
            )

        return await list_connection(
            info, LIST, args, base, Segment.from_model, prime=lambda row: loader.prime(row.id, row)
        )
