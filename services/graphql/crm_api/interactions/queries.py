"""Interaction queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.interactions import inputs as I
from crm_api.interactions.types import FIELDS, HIDDEN, Interaction
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.interactions import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("occurred_at", descending=True),),
    id_fields=I.ID_FIELDS,
)
GROUPS = group_spec(
    "Interaction",
    FIELDS | HIDDEN,
    keys=(
        "channel",
        "subject",
        "occurred_at",
        "next_contact_on",
        "created_at",
        "customer_id",
        "contact_id",
        "staff_user_id",
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
class InteractionQueries:
    @strawberry.field(
        description="One contact record by global id.", extensions=requires("interaction:read")
    )
    async def interaction(self, info: Info, id: strawberry.ID) -> Interaction | None:
        loader = info.context.loaders.interaction_by_id
        return await one_by_id(info, id, "Interaction", loader, Interaction.from_model)

    @strawberry.field(
        description="Contact records of live customers, latest first unless ordered; keyset-paginated.",
        extensions=requires("interaction:read"),
    )
    async def interactions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.InteractionFilter | None = None,
        order_by: list[I.InteractionOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words in the subject, content or result."),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Interaction]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.interaction_by_id

        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Interaction.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    interactions_group_by = group_by_field(
        GROUPS, LIST, I.InteractionFilter, base, permission="interaction:read"
    )
