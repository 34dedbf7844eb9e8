"""Order queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.orders import inputs as I
from crm_api.orders.types import FIELDS, HIDDEN, Order
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.orders import repository
from crm_core.query.pagination import SortKey

MEASURES = ("total_amount", "paid_amount", "refunded_amount")
LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("ordered_on", descending=True),),
    id_fields=I.ID_FIELDS,
    measures=MEASURES,
)
GROUPS = group_spec(
    "Order",
    FIELDS | HIDDEN,
    keys=(
        "status",
        "currency",
        "ordered_on",
        "created_at",
        "customer_id",
        "contract_id",
        "owner_id",
    ),
    measures=MEASURES,
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only orders of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class OrderQueries:
    @strawberry.field(description="One order by global id.", extensions=requires("order:read"))
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        loader = info.context.loaders.order_by_id
        return await one_by_id(info, id, "Order", loader, Order.from_model)

    @strawberry.field(
        description="Orders of live customers, latest first unless ordered; keyset-paginated.",
        extensions=requires("order:read"),
    )
    async def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.OrderFilter | None = None,
        order_by: list[I.OrderOrderBy] | None = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words in the number or notes.")
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Order]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.order_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Order.from_model,
            prime=lambda r: loader.prime(r.id, r),
        )

    orders_group_by = group_by_field(GROUPS, LIST, I.OrderFilter, base, permission="order:read")
