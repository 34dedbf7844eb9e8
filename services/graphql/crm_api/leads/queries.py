"""Lead queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.leads import inputs as I
from crm_api.leads.types import FIELDS, HIDDEN, PERSONAL, Lead
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.leads import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("created_at", descending=True),),
    id_fields=I.ID_FIELDS,
    personal=PERSONAL,
    measures=("score",),
)
GROUPS = group_spec(
    "Lead",
    FIELDS | HIDDEN,
    keys=(
        "source",
        "status",
        "province",
        "city",
        "score",
        "created_at",
        "converted_at",
        "owner_id",
        "converted_customer_id",
    ),
    measures=("score",),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Leads in the viewer's data scope; a masked viewer's search skips personal text."""
    return repository.base_select(
        include_deleted=include_deleted,
        search=search,
        scope=ctx.require_principal().data_scope,
        personal_data=not ctx.mask_personal,
    )


@strawberry.type
class LeadQueries:
    @strawberry.field(description="One lead by global id.", extensions=requires("lead:read"))
    async def lead(self, info: Info, id: strawberry.ID) -> Lead | None:
        loader, mask = info.context.loaders.lead_by_id, info.context.mask_personal
        return await one_by_id(info, id, "Lead", loader, lambda row: Lead.from_model(row, mask))

    @strawberry.field(
        description="Leads in your data scope, newest first unless ordered; keyset-paginated.",
        extensions=requires("lead:read"),
    )
    async def leads(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.LeadFilter | None = None,
        order_by: list[I.LeadOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words in name, company, title, city, phone digits, e-mail or pinyin."
            ),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Lead]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        ctx = info.context
        loader, mask = ctx.loaders.lead_by_id, ctx.mask_personal
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(ctx, include_deleted, search),
            lambda row: Lead.from_model(row, mask),
            prime=lambda row: loader.prime(row.id, row),
        )

    leads_group_by = group_by_field(GROUPS, LIST, I.LeadFilter, base, permission="lead:read")
