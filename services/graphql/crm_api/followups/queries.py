"""Follow-up queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.followups import inputs as I
from crm_api.followups.types import FIELDS, HIDDEN, FollowUp
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.followups import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("scheduled_at", descending=True),),
    id_fields=I.ID_FIELDS,
)
GROUPS = group_spec(
    "FollowUp",
    FIELDS | HIDDEN,
    keys=(
        "status",
        "scheduled_at",
        "remind_at",
        "done_at",
        "next_follow_up_at",
        "created_at",
        "customer_id",
        "owner_id",
    ),
    measures=(),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only records of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class FollowUpQueries:
    @strawberry.field(
        description="One follow-up by global id.", extensions=requires("followup:read")
    )
    async def follow_up(self, info: Info, id: strawberry.ID) -> FollowUp | None:
        loader = info.context.loaders.follow_up_by_id
        return await one_by_id(info, id, "FollowUp", loader, FollowUp.from_model)

    @strawberry.field(
        description="Follow-ups on live customers, latest scheduled first unless ordered; keyset-paginated.",
        extensions=requires("followup:read"),
    )
    async def follow_ups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.FollowUpFilter | None = None,
        order_by: list[I.FollowUpOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words in the content, result or customer feedback."),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[FollowUp]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.follow_up_by_id

        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            FollowUp.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    follow_ups_group_by = group_by_field(
        GROUPS, LIST, I.FollowUpFilter, base, permission="followup:read"
    )
