"""Customer queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_api.columns import filter_columns, sort_columns
from crm_api.context import Info
from crm_api.customers import inputs as I
from crm_api.customers.types import FIELDS, HIDDEN, Customer
from crm_api.errors import as_graphql_errors
from crm_api.listing import ListArgs, ListSpec, list_connection
from crm_api.permissions import requires
from crm_api.relay import Connection, from_global_id
from crm_core.customers import repository
from crm_core.query.pagination import SortKey

LIST = ListSpec(
    columns=filter_columns(FIELDS)
    | filter_columns(HIDDEN)
    | sort_columns(FIELDS)
    | sort_columns(HIDDEN),
    default_order=(SortKey("created_at", descending=True),),
    id_fields=I.ID_FIELDS,
)


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description="One customer by global id.", extensions=requires("customer:read")
    )
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        async def load() -> Customer | None:
            _, pk = from_global_id(id, expect="Customer")
            row = await info.context.loaders.customer_by_id.load(pk)
            return Customer.from_model(row) if row is not None else None

        return await as_graphql_errors(load)

    @strawberry.field(
        description="Customers, newest first unless ordered; keyset-paginated.",
        extensions=requires("customer:read"),
    )
    async def customers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.CustomerFilter | None = None,
        order_by: list[I.CustomerOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words in name, code, phone digits, e-mail, city or pinyin."
            ),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Customer]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.customer_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: repository.base_select(include_deleted=include_deleted, search=search),
            Customer.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )
