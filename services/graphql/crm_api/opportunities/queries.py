"""Opportunity queries, and the company's funnel."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.errors import as_graphql_errors
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.opportunities import inputs as I
from crm_api.opportunities.types import FIELDS, HIDDEN, Opportunity, OpportunityStage
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.opportunities import repository, service
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("created_at", descending=True),),
    id_fields=I.ID_FIELDS,
    measures=("expected_amount", "probability"),
)
GROUPS = group_spec(
    "Opportunity",
    FIELDS | HIDDEN,
    keys=(
        "stage",
        "outcome",
        "source",
        "currency",
        "probability",
        "expected_close_on",
        "closed_at",
        "created_at",
        "customer_id",
        "requirement_id",
        "owner_id",
    ),
    measures=("expected_amount", "probability"),
    id_fields=I.ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only records of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


@strawberry.type
class OpportunityQueries:
    @strawberry.field(
        description="One opportunity by global id.", extensions=requires("opportunity:read")
    )
    async def opportunity(self, info: Info, id: strawberry.ID) -> Opportunity | None:
        loader = info.context.loaders.opportunity_by_id
        return await one_by_id(info, id, "Opportunity", loader, Opportunity.from_model)

    @strawberry.field(
        description="Opportunities of live customers, latest first unless ordered; "
        "keyset-paginated.",
        extensions=requires("opportunity:read"),
    )
    async def opportunities(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.OpportunityFilter | None = None,
        order_by: list[I.OpportunityOrderBy] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Words in the name, source, description or need."),
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[Opportunity]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.opportunity_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            Opportunity.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    opportunities_group_by = group_by_field(
        GROUPS, LIST, I.OpportunityFilter, base, permission="opportunity:read"
    )

    @strawberry.field(
        description="The company's sales funnel: its stages in order.",
        extensions=requires("opportunity:read"),
    )
    async def opportunity_funnel(self, info: Info) -> list[OpportunityStage]:
        ctx = info.context

        async def load() -> list[OpportunityStage]:
            async with ctx.tenant_db.read() as session:
                funnel = await service.funnel_of(session, ctx.require_principal())
            return [OpportunityStage.from_stage(s) for s in funnel.stages]

        return await as_graphql_errors(load)
