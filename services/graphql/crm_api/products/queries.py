"""Product queries. The catalogue is the company's: no data scope, every role reads it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.products import inputs as I
from crm_api.products.types import FIELDS, HIDDEN, Product
from crm_api.relay import Connection
from crm_core.products import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("name"),),
    id_fields=I.ID_FIELDS,
    measures=("unit_price", "cost"),
)
GROUPS = group_spec(
    "Product",
    FIELDS | HIDDEN,
    keys=("category", "currency", "unit", "active", "created_at"),
    measures=("unit_price", "cost"),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """The company's catalogue: the same for every viewer (no data scope)."""
    return repository.base_select(include_deleted=include_deleted, search=search)


@strawberry.type
class ProductQueries:
    @strawberry.field(description="One product by global id.", extensions=requires("product:read"))
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        loader = info.context.loaders.product_by_id
        return await one_by_id(info, id, "Product", loader, Product.from_model)

    @strawberry.field(
        description="The catalogue, by name unless ordered; keyset-paginated.",
        extensions=requires("product:read"),
    )
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.ProductFilter | None = None,
        order_by: list[I.ProductOrderBy] | None = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words in the name, code or category.")
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Product]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.product_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Product.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    products_group_by = group_by_field(
        GROUPS, LIST, I.ProductFilter, base, permission="product:read"
    )
