"""Visit plan and visit record queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_api.visits import inputs as I
from crm_api.visits.types import (
    PLAN_FIELDS,
    PLAN_HIDDEN,
    RECORD_FIELDS,
    RECORD_HIDDEN,
    VisitPlan,
    VisitRecord,
)
from crm_core.query.pagination import SortKey
from crm_core.visits import repository

PLANS = list_spec(
    PLAN_FIELDS,
    PLAN_HIDDEN,
    default_order=(SortKey("planned_at", descending=True),),
    id_fields=I.PLAN_ID_FIELDS,
)
RECORDS = list_spec(
    RECORD_FIELDS,
    RECORD_HIDDEN,
    default_order=(SortKey("visited_at", descending=True),),
    id_fields=I.RECORD_ID_FIELDS,
    measures=("expenses",),
)
PLAN_GROUPS = group_spec(
    "VisitPlan",
    PLAN_FIELDS | PLAN_HIDDEN,
    keys=("status", "place", "planned_at", "created_at", "customer_id", "contact_id", "visitor_id"),
    id_fields=I.PLAN_ID_FIELDS,
)
RECORD_GROUPS = group_spec(
    "VisitRecord",
    RECORD_FIELDS | RECORD_HIDDEN,
    keys=(
        "outcome",
        "currency",
        "visited_at",
        "next_visit_on",
        "created_at",
        "customer_id",
        "contact_id",
        "plan_id",
        "visitor_id",
    ),
    measures=("expenses",),
    id_fields=I.RECORD_ID_FIELDS,
)
Search = Annotated[
    str | None, strawberry.argument(description="Words in the purpose, place or notes.")
]
RecordSearch = Annotated[
    str | None,
    strawberry.argument(description="Words in the content, problems solved or what to watch."),
]


def plan_base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Plans of live customers in the viewer's data scope."""
    return repository.plans.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


def record_base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Records of live customers in the viewer's data scope."""
    return repository.visit_records.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class VisitQueries:
    @strawberry.field(
        description="One visit plan by global id.", extensions=requires("visit_plan:read")
    )
    async def visit_plan(self, info: Info, id: strawberry.ID) -> VisitPlan | None:
        loader = info.context.loaders.visit_plan_by_id
        return await one_by_id(info, id, "VisitPlan", loader, VisitPlan.from_model)

    @strawberry.field(
        description="Visit plans of live customers in your scope, latest planned first unless "
        "ordered; keyset-paginated.",
        extensions=requires("visit_plan:read"),
    )
    async def visit_plans(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.VisitPlanFilter | None = None,
        order_by: list[I.VisitPlanOrderBy] | None = None,
        search: Search = None,
        include_deleted: bool = False,
    ) -> Connection[VisitPlan]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.visit_plan_by_id
        return await list_connection(
            info,
            PLANS,
            args,
            lambda: plan_base(info.context, include_deleted, search),
            VisitPlan.from_model,
            prime=lambda r: loader.prime(r.id, r),
        )

    visit_plans_group_by = group_by_field(
        PLAN_GROUPS, PLANS, I.VisitPlanFilter, plan_base, permission="visit_plan:read"
    )

    @strawberry.field(
        description="One visit record by global id.", extensions=requires("visit_record:read")
    )
    async def visit_record(self, info: Info, id: strawberry.ID) -> VisitRecord | None:
        loader = info.context.loaders.visit_record_by_id
        return await one_by_id(info, id, "VisitRecord", loader, VisitRecord.from_model)

    @strawberry.field(
        description="Visit records of live customers in your scope, latest visit first unless "
        "ordered; keyset-paginated.",
        extensions=requires("visit_record:read"),
    )
    async def visit_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.VisitRecordFilter | None = None,
        order_by: list[I.VisitRecordOrderBy] | None = None,
        search: RecordSearch = None,
        include_deleted: bool = False,
    ) -> Connection[VisitRecord]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.visit_record_by_id
        return await list_connection(
            info,
            RECORDS,
            args,
            lambda: record_base(info.context, include_deleted, search),
            VisitRecord.from_model,
            prime=lambda r: loader.prime(r.id, r),
        )

    visit_records_group_by = group_by_field(
        RECORD_GROUPS, RECORDS, I.VisitRecordFilter, record_base, permission="visit_record:read"
    )
