"""The Tag type."""

from __future__ import annotations

import datetime
from typing import Any

import strawberry
from sqlalchemy import Select

from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.customers.inputs import CustomerOrderBy
from crm_api.customers.queries import LIST as CUSTOMERS
from crm_api.customers.types import Customer
from crm_api.listing import ListArgs, list_connection
from crm_api.permissions import requires
from crm_api.relay import Connection, Node, to_global_id
from crm_core.customers import repository as customers_repo
from crm_core.tags.models import Tag as M
from crm_core.tags.repository import tagged

FIELDS: dict[str, Col] = {
    "name": Col(M.name, sortable=True),
    "color": Col(M.color, filterable=False),
    "category": Col(M.category, sortable=True),
    "description": Col(M.description, filterable=False),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
HIDDEN: dict[str, Col] = {"id": Col(M.id, sortable=True)}


@strawberry.type(
    description="A tag of the company's catalogue (客户分类). Customers carry tags by name in "
    "`Customer.tags`; renaming a tag renames it on every customer."
)
class Tag(Node):
    name: str = strawberry.field(description="Unique in the company, ignoring case.")
    color: str | None = strawberry.field(description="#RRGGBB")
    category: str | None
    description: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None

    @classmethod
    def from_model(cls, row: M) -> Tag:
        return cls(id=strawberry.ID(to_global_id("Tag", row.id)), **read_fields(row, FIELDS))

    @strawberry.field(
        description="Live customers in your data scope carrying this tag.",
        extensions=requires("customer:read"),
    )
    async def customer_count(self, info: Info) -> int:
        return int(await info.context.loaders.tag_customer_count.load(self.name))

    @strawberry.field(
        description="Live customers in your data scope carrying this tag; keyset-paginated. "
        "One statement per tag: ask for it on one tag, not on a page of them.",
        extensions=requires("customer:read"),
    )
    async def customers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        order_by: list[CustomerOrderBy] | None = None,
    ) -> Connection[Customer]:
        ctx = info.context
        loader, mask = ctx.loaders.customer_by_id, ctx.mask_personal

        def base() -> Select[Any]:
            return customers_repo.base_select(
                include_deleted=False, search=None, scope=ctx.require_principal().data_scope
            ).where(tagged(self.name))

        return await list_connection(
            info,
            CUSTOMERS,
            ListArgs(first, after, None, None, None, order_by, False),
            base,
            lambda row: Customer.from_model(row, mask),
            prime=lambda row: loader.prime(row.id, row),
        )
