"""Contact queries."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select

from crm_api.contacts import inputs as I
from crm_api.contacts.types import FIELDS, HIDDEN, PERSONAL, Contact
from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.contacts import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("created_at", descending=True),),
    id_fields=I.ID_FIELDS,
    personal=PERSONAL,
)
GROUPS = group_spec(
    "Contact",
    FIELDS | HIDDEN,
    keys=("title", "department", "is_primary", "preferred_channel", "created_at", "customer_id"),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only contacts of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted,
        search=search,
        scope=ctx.require_principal().data_scope,
        personal_data=not ctx.mask_personal,
    )


@strawberry.type
class ContactQueries:
    @strawberry.field(extensions=requires("contact:read"))
    async def contact(self, info: Info, id: strawberry.ID) -> Contact | None:
        loader = info.context.loaders.contact_by_id
        mask = info.context.mask_personal
        return await one_by_id(
            info, id, "Contact", loader, lambda row: Contact.from_model(row, mask)
        )

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
        mask = info.context.mask_personal
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            lambda row: Contact.from_model(row, mask),
        )

    contacts_group_by = group_by_field(
        GROUPS, LIST, I.ContactFilter, base, permission="contact:read"
    )
