"""Evaluation queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.evaluations import inputs as I
from crm_api.evaluations.types import (
    CRITERION_FIELDS,
    CRITERION_HIDDEN,
    FIELDS,
    HIDDEN,
    EvaluationCriterion,
    RelationshipEvaluation,
)
from crm_api.grouping import group_by_field, group_spec
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_core.evaluations import repository
from crm_core.evaluations.models import EvaluationCriterion as CriterionRow
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("evaluated_on", descending=True),),
    id_fields=I.ID_FIELDS,
    measures=("total_score",),
)
GROUPS = group_spec(
    "RelationshipEvaluation",
    FIELDS | HIDDEN,
    keys=(
        "recommendation",
        "recommendation_manual",
        "evaluated_on",
        "created_at",
        "customer_id",
        "evaluator_id",
    ),
    measures=("total_score",),
    id_fields=I.ID_FIELDS,
)
CRITERIA = list_spec(
    CRITERION_FIELDS,
    CRITERION_HIDDEN,
    default_order=(SortKey("position"),),
    id_fields=I.CRITERION_ID_FIELDS,
)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Only evaluations of live customers in the viewer's data scope."""
    return repository.base_select(
        include_deleted=include_deleted, search=search, scope=ctx.require_principal().data_scope
    )


def criteria_base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    return repository.criteria_select(include_deleted=include_deleted, search=search)


def _live_criterion(row: CriterionRow) -> EvaluationCriterion | None:
    # The loader also serves scores whose criterion was deleted since; by id, deleted is missing.
    return EvaluationCriterion.from_model(row) if row.deleted_at is None else None


@strawberry.type
class EvaluationQueries:
    @strawberry.field(
        description="One evaluation criterion by global id.",
        extensions=requires("evaluation:read"),
    )
    async def evaluation_criterion(
        self, info: Info, id: strawberry.ID
    ) -> EvaluationCriterion | None:
        loader = info.context.loaders.evaluation_criterion_by_id
        return await one_by_id(info, id, "EvaluationCriterion", loader, _live_criterion)

    @strawberry.field(
        description="The company's evaluation criteria, by position unless ordered.",
        extensions=requires("evaluation:read"),
    )
    async def evaluation_criteria(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.EvaluationCriterionFilter | None = None,
        order_by: list[I.EvaluationCriterionOrderBy] | None = None,
        search: Annotated[str | None, strawberry.argument(description="Words in the name.")] = None,
        include_deleted: bool = False,
    ) -> Connection[EvaluationCriterion]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        return await list_connection(
            info,
            CRITERIA,
            args,
            lambda: criteria_base(info.context, include_deleted, search),
            EvaluationCriterion.from_model,
        )

    @strawberry.field(
        description="One relationship evaluation by global id.",
        extensions=requires("evaluation:read"),
    )
    async def relationship_evaluation(
        self, info: Info, id: strawberry.ID
    ) -> RelationshipEvaluation | None:
        loader = info.context.loaders.relationship_evaluation_by_id
        return await one_by_id(
            info, id, "RelationshipEvaluation", loader, RelationshipEvaluation.from_model
        )

    @strawberry.field(
        description="Relationship evaluations of live customers, latest first unless ordered; "
        "keyset-paginated.",
        extensions=requires("evaluation:read"),
    )
    async def relationship_evaluations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.RelationshipEvaluationFilter | None = None,
        order_by: list[I.RelationshipEvaluationOrderBy] | None = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words in the notes.")
        ] = None,
        include_deleted: bool = False,
    ) -> Connection[RelationshipEvaluation]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.relationship_evaluation_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            RelationshipEvaluation.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )

    relationship_evaluations_group_by = group_by_field(
        GROUPS, LIST, I.RelationshipEvaluationFilter, base, permission="evaluation:read"
    )
