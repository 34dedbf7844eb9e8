"""Pool queries: the pool's customers and the company's rules."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.customers import inputs as CI
from crm_api.customers.types import FIELDS, HIDDEN, PERSONAL, Customer
from crm_api.errors import as_graphql_errors
from crm_api.listing import ListArgs, list_connection, list_spec
from crm_api.permissions import requires
from crm_api.pool.types import PoolRules
from crm_api.relay import Connection
from crm_core.pool import repository, service
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    # Latest entered first; customers created without an owner (never "entered") last.
    default_order=(SortKey("pool_entered_at", descending=True, nulls_first=False),),
    id_fields=CI.ID_FIELDS,
    personal=PERSONAL,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """The whole pool, whatever the viewer's data scope: that is what a pool is for."""
    return repository.base_select(search=search, personal_data=not ctx.mask_personal)


@strawberry.type
class PoolQueries:
    @strawberry.field(
        description="The shared customer pool (公海): live customers without an owner, to claim. "
        "Visible whole to every role that may claim, whatever its data scope.",
        extensions=requires("customer:claim"),
    )
    async def customer_pool(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CI.CustomerFilter | None = None,
        order_by: list[CI.CustomerOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words in name, code, phone digits, e-mail or city."),
        ] = None,
    ) -> Connection[Customer]:
        args = ListArgs(first, after, None, None, filter, order_by, False)
        mask = info.context.mask_personal
        # Not primed into customer_by_id: that loader applies the data scope, the pool does not.
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, False, search),
            lambda row: Customer.from_model(row, mask),
        )

    @strawberry.field(description="The company's pool rules.", extensions=requires("customer:read"))
    async def pool_rules(self, info: Info) -> PoolRules:
        async def load() -> PoolRules:
            ctx = info.context
            async with ctx.tenant_db.read() as session:
                rules = await service.rules(session, ctx.require_principal().tenant.id)
            return PoolRules.from_rules(rules)

        return await as_graphql_errors(load)
