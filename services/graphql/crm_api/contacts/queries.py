"""Contact queries."""

from __future__ import annotations

import strawberry

from crm_api.columns import filter_columns, sort_columns
from crm_api.contacts import inputs as I
from crm_api.contacts.types import FIELDS, HIDDEN, Contact
from crm_api.context import Info
from crm_api.errors import as_graphql_errors
from crm_api.filters import to_sort_keys, to_spec
from crm_api.permissions import requires
from crm_api.relay import Connection, connection_from_page, from_global_id
from crm_core.contacts import repository
from crm_core.contacts.models import Contact as Row
from crm_core.customers.models import Customer as CustomerRow
from crm_core.query.listing import ListQuery, list_page
from crm_core.query.pagination import PageRequest, SortKey

FILTER_COLUMNS = filter_columns(FIELDS) | filter_columns(HIDDEN)
SORT_COLUMNS = sort_columns(FIELDS) | sort_columns(HIDDEN)
DEFAULT_ORDER = (SortKey("created_at", descending=True),)


@strawberry.type
class ContactQueries:
    @strawberry.field(extensions=requires("contact:read"))
    async def contact(self, info: Info, id: strawberry.ID) -> Contact | None:
        async def load() -> Contact | None:
            _, pk = from_global_id(id, expect="Contact")
            row = await info.context.loaders.contact_by_id.load(pk)
            return Contact.from_model(row) if row is not None else None

        return await as_graphql_errors(load)

    @strawberry.field(
        description="Contacts of live customers; keyset-paginated.",
        extensions=requires("contact:read"),
    )
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.ContactFilter | None = None,
        order_by: list[I.ContactOrderBy] | None = None,
        search: str | None = None,
        include_deleted: bool = False,
    ) -> Connection[Contact]:
        async def load() -> Connection[Contact]:
            query = ListQuery(
                filter=to_spec(filter, I.ID_FIELDS),
                order_by=to_sort_keys(order_by),
                page=PageRequest(first=first, after=after, last=last, before=before),
                include_deleted=include_deleted,
            )
            # A contact is visible only while its customer is: join to the live customer.
            base = repository.base_select(include_deleted=include_deleted, search=search).join(
                CustomerRow, (CustomerRow.id == Row.customer_id) & CustomerRow.deleted_at.is_(None)
            )
            async with info.context.tenant_db.read() as session:
                page = await list_page(
                    session,
                    base,
                    query,
                    columns=FILTER_COLUMNS | SORT_COLUMNS,
                    default_order=DEFAULT_ORDER,
                    max_size=info.context.settings.graphql.max_page_size,
                )
            return connection_from_page(page, Contact.from_model)

        return await as_graphql_errors(load)
