"""The Segment type: a saved customer filter whose customers are found when asked for."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

import strawberry
from sqlalchemy import Select
from strawberry.scalars import JSON

from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.customers.inputs import CustomerOrderBy
from crm_api.customers.queries import LIST as CUSTOMERS
from crm_api.customers.types import Customer
from crm_api.listing import ListArgs, list_connection
from crm_api.permissions import requires
from crm_api.related import user_of
from crm_api.relay import Connection, Node, to_global_id
from crm_api.users import User
from crm_core.customers import repository as customers_repo
from crm_core.segments import specs
from crm_core.segments.models import Segment as M

FIELDS: dict[str, Col] = {
    "name": Col(M.name, sortable=True),
    "description": Col(M.description, filterable=False),
    "shared": Col(M.shared),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "owner_id": Col(M.owner_id),
    "filter": Col(M.filter, filterable=False),
}


@strawberry.type(
    description="A saved customer filter (客户分类: by industry, region, lifecycle…), shared "
    "with the company or private to its owner. Its customers are found live, within your data "
    "scope, each time you ask."
)
class Segment(Node):
    name: str
    description: str | None
    shared: bool = strawberry.field(description="Visible to the whole company; else only to you.")
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _owner_id: strawberry.Private[uuid.UUID]
    _pk: strawberry.Private[uuid.UUID]
    _filter: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_model(cls, row: M) -> Segment:
        return cls(
            id=strawberry.ID(to_global_id("Segment", row.id)),
            _owner_id=row.owner_id,
            _pk=row.id,
            _filter=dict(row.filter or {}),
            **read_fields(row, FIELDS),
        )

    @strawberry.field(
        description="The stored CustomerFilter as normalised data (field names snake_case, ids "
        'as record uuids): `{"and": [...], "city": {"eq": "上海"}}`.'
    )
    def filter(self) -> JSON:
        return JSON(self._filter)

    @strawberry.field(description="Who saved it.")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)

    @strawberry.field(
        description="Live customers in your data scope matching the filter now (batched: a page "
        "of segments costs one statement).",
        extensions=requires("customer:read"),
    )
    async def customer_count(self, info: Info) -> int:
        key = (self._pk, json.dumps(self._filter, sort_keys=True, ensure_ascii=False))
        return int(await info.context.loaders.segment_customer_count.load(key))

    @strawberry.field(
        description="Live customers in your data scope matching the filter now; keyset-paginated. "
        "A filter on personal data is refused for roles that see it masked.",
        extensions=requires("customer:read"),
    )
    async def customers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: list[CustomerOrderBy] | None = None,
    ) -> Connection[Customer]:
        ctx = info.context
        loader, mask = ctx.loaders.customer_by_id, ctx.mask_personal

        def base() -> Select[Any]:
            condition = specs.predicate(
                self._filter, CUSTOMERS.columns, personal=CUSTOMERS.personal, masked=mask
            )
            return customers_repo.base_select(
                include_deleted=False,
                search=None,
                scope=ctx.require_principal().data_scope,
                personal_data=not mask,
            ).where(condition)

        return await list_connection(
            info,
            CUSTOMERS,
            ListArgs(first, after, last, before, None, order_by, False),
            base,
            lambda row: Customer.from_model(row, mask),
            prime=lambda row: loader.prime(row.id, row),
        )
