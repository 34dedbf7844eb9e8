"""Lifecycle history queries (read-only: events are written by customer creates and updates)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.lifecycle import inputs as I
from crm_api.lifecycle.types import FIELDS, HIDDEN, CustomerLifecycleEvent
from crm_api.listing import ListArgs, list_connection, list_spec
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.lifecycle import repository
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("changed_at", descending=True),),
    id_fields=I.ID_FIELDS,
)
GROUPS = group_spec(
    "CustomerLifecycleEvent",
    FIELDS | HIDDEN,
    keys=("from_stage", "to_stage", "changed_at", "customer_id", "changed_by"),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Events of live customers in the viewer's data scope. Events are never deleted and carry
    no text, so ``include_deleted`` and ``search`` change nothing."""
    return repository.base_select(scope=ctx.require_principal().data_scope)


@strawberry.type
class LifecycleQueries:
    @strawberry.field(
        description="Changes of lifecycle stage of live customers in your data scope, latest "
        "first unless ordered; keyset-paginated.",
        extensions=requires("lifecycle:read"),
    )
    async def customer_lifecycle_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.CustomerLifecycleEventFilter | None = None,
        order_by: list[I.CustomerLifecycleEventOrderBy] | None = None,
    ) -> Connection[CustomerLifecycleEvent]:
        args = ListArgs(first, after, last, before, filter, order_by, False)
        loader = info.context.loaders.lifecycle_event_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, False, None),
            CustomerLifecycleEvent.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    customer_lifecycle_events_group_by = group_by_field(
        GROUPS,
        LIST,
        I.CustomerLifecycleEventFilter,
        base,
        permission="lifecycle:read",
        search=False,
    )
