"""Contract and delivery queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.contracts import inputs as I
from crm_api.contracts.types import (
    DELIVERY_FIELDS,
    DELIVERY_HIDDEN,
    FIELDS,
    HIDDEN,
    Contract,
    ContractDelivery,
)
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.contracts import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("starts_on", descending=True),),
    id_fields=I.ID_FIELDS,
    measures=("amount",),
)
GROUPS = group_spec(
    "Contract",
    FIELDS | HIDDEN,
    keys=(
        "status",
        "currency",
        "signed_on",
        "starts_on",
        "ends_on",
        "created_at",
        "customer_id",
        "opportunity_id",
        "owner_id",
    ),
    measures=("amount",),
    id_fields=I.ID_FIELDS,
)
DELIVERY_LIST = list_spec(
    DELIVERY_FIELDS,
    DELIVERY_HIDDEN,
    default_order=(SortKey("due_on"),),
    id_fields=I.DELIVERY_ID_FIELDS,
)
DELIVERY_GROUPS = group_spec(
    "ContractDelivery",
    DELIVERY_FIELDS | DELIVERY_HIDDEN,
    keys=(
        "acceptance_status",
        "due_on",
        "delivered_on",
        "accepted_on",
        "created_at",
        "contract_id",
    ),
    id_fields=I.DELIVERY_ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only contracts of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


def delivery_base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Deliveries of live contracts in the viewer's data scope (no text search)."""
    return repository.delivery_base_select(
        include_deleted=include_deleted, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class ContractQueries:
    @strawberry.field(
        description="One contract by global id.", extensions=requires("contract:read")
    )
    async def contract(self, info: Info, id: strawberry.ID) -> Contract | None:
        loader = info.context.loaders.contract_by_id
        return await one_by_id(info, id, "Contract", loader, Contract.from_model)

    @strawberry.field(
        description="Contracts of live customers, latest start first unless ordered; "
        "keyset-paginated.",
        extensions=requires("contract:read"),
    )
    async def contracts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.ContractFilter | None = None,
        order_by: list[I.ContractOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words in the number, name, terms or notes."),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Contract]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.contract_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Contract.from_model,
            prime=lambda r: loader.prime(r.id, r),
        )

    contracts_group_by = group_by_field(
        GROUPS, LIST, I.ContractFilter, base, permission="contract:read"
    )

    @strawberry.field(
        description="One contract delivery by global id.", extensions=requires("contract:read")
    )
    async def contract_delivery(self, info: Info, id: strawberry.ID) -> ContractDelivery | None:
        loader = info.context.loaders.contract_delivery_by_id
        return await one_by_id(info, id, "ContractDelivery", loader, ContractDelivery.from_model)

    @strawberry.field(
        description="Deliveries of live contracts, earliest due first unless ordered; "
        "keyset-paginated.",
        extensions=requires("contract:read"),
    )
    async def contract_deliveries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.ContractDeliveryFilter | None = None,
        order_by: list[I.ContractDeliveryOrderBy] | None = None,
        include_deleted: bool = False,
    ) -> Connection[ContractDelivery]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.contract_delivery_by_id
        return await list_connection(
            info,
            DELIVERY_LIST,
            args,
            lambda: delivery_base(info.context, include_deleted, None),
            ContractDelivery.from_model,
            prime=lambda r: loader.prime(r.id, r),
        )

    contract_deliveries_group_by = group_by_field(
        DELIVERY_GROUPS,
        DELIVERY_LIST,
        I.ContractDeliveryFilter,
        delivery_base,
        permission="contract:read",
        search=False,
    )
