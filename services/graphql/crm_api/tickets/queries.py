"""Service-ticket queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_api.tickets import inputs as I
from crm_api.tickets.types import FIELDS, HIDDEN, ServiceTicket
from crm_core.query.pagination import SortKey
from crm_core.tickets import repository

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("requested_at", descending=True),),
    id_fields=I.ID_FIELDS,
    measures=("satisfaction",),
)
GROUPS = group_spec(
    "ServiceTicket",
    FIELDS | HIDDEN,
    keys=(
        "priority",
        "status",
        "product",
        "satisfaction",
        "requested_at",
        "handled_at",
        "resolved_at",
        "created_at",
        "customer_id",
        "contact_id",
        "assignee_id",
    ),
    measures=("satisfaction",),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only records of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class ServiceTicketQueries:
    @strawberry.field(
        description="One after-sales service ticket by global id.",
        extensions=requires("ticket:read"),
    )
    async def service_ticket(self, info: Info, id: strawberry.ID) -> ServiceTicket | None:
        loader = info.context.loaders.service_ticket_by_id
        return await one_by_id(info, id, "ServiceTicket", loader, ServiceTicket.from_model)

    @strawberry.field(
        description="After-sales service tickets on live customers, latest requested first unless ordered; keyset-paginated.",
        extensions=requires("ticket:read"),
    )
    async def service_tickets(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.ServiceTicketFilter | None = None,
        order_by: list[I.ServiceTicketOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words in the problem, product or result."),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[ServiceTicket]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.service_ticket_by_id

        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            ServiceTicket.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    service_tickets_group_by = group_by_field(
        GROUPS, LIST, I.ServiceTicketFilter, base, permission="ticket:read"
    )
