"""Requirement analysis queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_api.requirements import inputs as I
from crm_api.requirements.types import FIELDS, HIDDEN, RequirementAnalysis
from crm_core.query.pagination import SortKey
from crm_core.requirements import repository

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("created_at", descending=True),),
    id_fields=I.ID_FIELDS,
)
GROUPS = group_spec(
    "RequirementAnalysis",
    FIELDS | HIDDEN,
    keys=(
        "priority",
        "implementation_status",
        "desired_delivery_on",
        "created_at",
        "customer_id",
        "contact_id",
        "owner_id",
    ),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only records of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class RequirementAnalysisQueries:
    @strawberry.field(
        description="One requirement analysis by global id.",
        extensions=requires("requirement:read"),
    )
    async def requirement_analysis(
        self, info: Info, id: strawberry.ID
    ) -> RequirementAnalysis | None:
        loader = info.context.loaders.requirement_analysis_by_id
        return await one_by_id(
            info, id, "RequirementAnalysis", loader, RequirementAnalysis.from_model
        )

    @strawberry.field(
        description="Requirement analyses of live customers, latest first unless ordered; "
        "keyset-paginated.",
        extensions=requires("requirement:read"),
    )
    async def requirement_analyses(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.RequirementAnalysisFilter | None = None,
        order_by: list[I.RequirementAnalysisOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words in the summary, product features, service content or solution."
            ),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[RequirementAnalysis]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.requirement_analysis_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            RequirementAnalysis.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    requirement_analyses_group_by = group_by_field(
        GROUPS, LIST, I.RequirementAnalysisFilter, base, permission="requirement:read"
    )
