"""Customer queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.customers import inputs as I
from crm_api.customers.types import FIELDS, HIDDEN, PERSONAL, Customer
from crm_api.errors import graphql_error
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.customers import repository
from crm_core.customers.models import Customer as CustomerRow
from crm_core.errors import Forbidden
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("created_at", descending=True),),
    id_fields=I.ID_FIELDS,
    personal=PERSONAL,
    measures=("distance_km",),
)
GROUPS = group_spec(
    "Customer",
    FIELDS | HIDDEN,
    keys=(
        "kind",
        "industry",
        "grade",
        "lifecycle_stage",
        "source",
        "country",
        "province",
        "city",
        "district",
        "credit_rating",
        "payment_habit",
        "preferred_service_mode",
        "gender",
        "area_type",
        "income_band",
        "birth_date",
        "created_at",
        "owner_id",
    ),
    measures=("distance_km",),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Customers in the viewer's data scope; a masked viewer's search skips personal text."""
    return repository.base_select(
        include_deleted=include_deleted,
        search=search,
        scope=ctx.require_principal().data_scope,
        personal_data=not ctx.mask_personal,
    )


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description="One customer by global id.", extensions=requires("customer:read")
    )
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        loader = info.context.loaders.customer_by_id
        mask = info.context.mask_personal
        return await one_by_id(
            info, id, "Customer", loader, lambda row: Customer.from_model(row, mask)
        )

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
        tax_id: Annotated[
            str | None, strawberry.argument(description="Exact tax id, matched by its blind index.")
        ] = None,
    ) -> Connection[Customer]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        ctx = info.context
        loader, mask = ctx.loaders.customer_by_id, ctx.mask_personal

        index = None
        if tax_id is not None:
            if mask:
                raise graphql_error(Forbidden("your role cannot search by personal data"))
            index = (await ctx.cipher()).blind_index(tax_id, field="tax_id")

        def narrowed() -> Select[Any]:
            stmt = base(ctx, include_deleted, search)
            return stmt.where(CustomerRow.tax_id_index == index) if index is not None else stmt

        return await list_connection(
            info,
            LIST,
            args,
            narrowed,
            lambda row: Customer.from_model(row, mask),
            prime=lambda row: loader.prime(row.id, row),
        )

    customers_group_by = group_by_field(
        GROUPS, LIST, I.CustomerFilter, base, permission="customer:read"
    )
