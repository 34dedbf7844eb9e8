"""Complaint queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.complaints import inputs as I
from crm_api.complaints.types import FIELDS, HIDDEN, Complaint
from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.complaints import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("received_at", descending=True),),
    id_fields=I.ID_FIELDS,
    measures=("satisfaction",),
)
GROUPS = group_spec(
    "Complaint",
    FIELDS | HIDDEN,
    keys=(
        "kind",
        "severity",
        "status",
        "product_or_service",
        "satisfaction",
        "received_at",
        "sla_due_at",
        "resolved_at",
        "created_at",
        "customer_id",
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
class ComplaintQueries:
    @strawberry.field(
        description="One complaint by global id.", extensions=requires("complaint:read")
    )
    async def complaint(self, info: Info, id: strawberry.ID) -> Complaint | None:
        loader = info.context.loaders.complaint_by_id
        return await one_by_id(info, id, "Complaint", loader, Complaint.from_model)

    @strawberry.field(
        description="Complaints on live customers, latest received first unless ordered; keyset-paginated.",
        extensions=requires("complaint:read"),
    )
    async def complaints(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.ComplaintFilter | None = None,
        order_by: list[I.ComplaintOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words in the description, product or service, or resolution."
            ),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Complaint]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.complaint_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Complaint.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    complaints_group_by = group_by_field(
        GROUPS, LIST, I.ComplaintFilter, base, permission="complaint:read"
    )
