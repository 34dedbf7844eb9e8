"""Contact queries."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select

from crm_api.columns import filter_columns, sort_columns
from crm_api.contacts import inputs as I
from crm_api.contacts.types import FIELDS, HIDDEN, PERSONAL, Contact
from crm_api.context import Info
from crm_api.errors import as_graphql_errors
from crm_api.listing import ListArgs, ListSpec, list_connection
from crm_api.permissions import requires
from crm_api.relay import Connection, from_global_id
from crm_core.contacts import repository
from crm_core.query.pagination import SortKey

LIST = ListSpec(
    columns=filter_columns(FIELDS)
    | filter_columns(HIDDEN)
    | sort_columns(FIELDS)
    | sort_columns(HIDDEN),
    default_order=(SortKey("created_at", descending=True),),
    id_fields=I.ID_FIELDS,
    personal=PERSONAL,
)


@strawberry.type
class ContactQueries:
    @strawberry.field(extensions=requires("contact:read"))
    async def contact(self, info: Info, id: strawberry.ID) -> Contact | None:
        async def load() -> Contact | None:
            _, pk = from_global_id(id, expect="Contact")
            row = await info.context.loaders.contact_by_id.load(pk)
            return Contact.from_model(row, info.context.mask_personal) if row is not None else None

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
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)

        ctx = info.context
        mask = ctx.mask_personal

        def base() -> Select[Any]:
            # Only contacts of live customers in the viewer's data scope.
            return repository.base_select(
                include_deleted=include_deleted,
                search=search,
                scope=ctx.require_principal().data_scope,
                personal_data=not mask,
            )

        return await list_connection(
            info, LIST, args, base, lambda row: Contact.from_model(row, mask)
        )
