"""Tag queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_api.tags import inputs as I
from crm_api.tags.types import FIELDS, HIDDEN, Tag
from crm_core.query.pagination import SortKey
from crm_core.tags import repository

LIST = list_spec(FIELDS, HIDDEN, default_order=(SortKey("name"),), id_fields=I.ID_FIELDS)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """The company's tag catalogue: the same for every viewer (no data scope)."""
    return repository.base_select(include_deleted=include_deleted, search=search)


@strawberry.type
class TagQueries:
    @strawberry.field(description="One tag by global id.", extensions=requires("tag:read"))
    async def tag(self, info: Info, id: strawberry.ID) -> Tag | None:
        return await one_by_id(info, id, "Tag", info.context.loaders.tag_by_id, Tag.from_model)

    @strawberry.field(
        description="The company's tag catalogue, by name unless ordered; keyset-paginated.",
        extensions=requires("tag:read"),
    )
    async def tags(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.TagFilter | None = None,
        order_by: list[I.TagOrderBy] | None = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words in the tag's name.")
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Tag]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.tag_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Tag.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )
