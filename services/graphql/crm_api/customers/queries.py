"""Customer queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_api.columns import filter_columns, sort_columns
from crm_api.context import Info
from crm_api.customers import inputs as I
from crm_api.customers.types import FIELDS, HIDDEN, Customer
from crm_api.errors import as_graphql_errors
from crm_api.filters import to_sort_keys, to_spec
from crm_api.permissions import requires
from crm_api.relay import Connection, connection_from_page, from_global_id
from crm_core.customers import repository
from crm_core.query.listing import ListQuery, list_page
from crm_core.query.pagination import PageRequest, SortKey

FILTER_COLUMNS = filter_columns(FIELDS) | filter_columns(HIDDEN)
SORT_COLUMNS = sort_columns(FIELDS) | sort_columns(HIDDEN)
DEFAULT_ORDER = (SortKey("created_at", descending=True),)


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
        async def load() -> Connection[Customer]:
            query = ListQuery(
                filter=to_spec(filter, I.ID_FIELDS),
                order_by=to_sort_keys(order_by),
                page=PageRequest(first=first, after=after, last=last, before=before),
                include_deleted=include_deleted,
            )
            base = repository.base_select(include_deleted=include_deleted, search=search)
            async with info.context.tenant_db.read() as session:
                page = await list_page(
                    session,
                    base,
                    query,
                    columns=FILTER_COLUMNS | SORT_COLUMNS,
                    default_order=DEFAULT_ORDER,
                    max_size=info.context.settings.graphql.max_page_size,
                )
            for row in page.items:
                info.context.loaders.customer_by_id.prime(row.id, row)
            return connection_from_page(page, Customer.from_model)

        return await as_graphql_errors(load)
