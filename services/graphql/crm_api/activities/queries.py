"""Activity queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.activities import inputs as I
from crm_api.activities.types import FIELDS, HIDDEN, Activity
from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.activities import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("starts_at", descending=True),),
    id_fields=I.ID_FIELDS,
    measures=("capacity",),
)
GROUPS = group_spec(
    "Activity",
    FIELDS | HIDDEN,
    keys=("kind", "status", "location", "starts_at", "ends_at", "created_at", "owner_id"),
    measures=("capacity",),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Activities in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        description="One activity by global id.", extensions=requires("activity:read")
    )
    async def activity(self, info: Info, id: strawberry.ID) -> Activity | None:
        loader = info.context.loaders.activity_by_id
        return await one_by_id(info, id, "Activity", loader, Activity.from_model)

    @strawberry.field(
        description="The company's activities, latest start first unless ordered; "
        "keyset-paginated.",
        extensions=requires("activity:read"),
    )
    async def activities(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.ActivityFilter | None = None,
        order_by: list[I.ActivityOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words in the name, location or description."),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Activity]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.activity_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Activity.from_model,
            prime=lambda r: loader.prime(r.id, r),
        )

    activities_group_by = group_by_field(
        GROUPS, LIST, I.ActivityFilter, base, permission="activity:read"
    )
