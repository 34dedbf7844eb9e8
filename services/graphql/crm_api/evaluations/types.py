"""The evaluation types: a company's weighted criteria, and a customer's relationship evaluation
(客户关系评估表) with its scores."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import customer_of, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.evaluations.models import EvaluationCriterion as CM
from crm_core.evaluations.models import EvaluationScore as SM
from crm_core.evaluations.models import RelationshipEvaluation as M

if TYPE_CHECKING:
    from crm_api.customers.types import Customer

CRITERION_FIELDS: dict[str, Col] = {
    "name": Col(CM.name, sortable=True),
    "description": Col(CM.description, filterable=False),
    "weight": Col(CM.weight, sortable=True),
    "position": Col(CM.position, sortable=True),
    "active": Col(CM.active),
    "version": Col(CM.version, filterable=False),
    "created_at": Col(CM.created_at, sortable=True),
    "updated_at": Col(CM.updated_at, sortable=True),
    "deleted_at": Col(CM.deleted_at),
}
CRITERION_HIDDEN: dict[str, Col] = {"id": Col(CM.id, sortable=True)}

FIELDS: dict[str, Col] = {
    "evaluated_on": Col(M.evaluated_on, sortable=True),
    "total_score": Col(M.total_score, sortable=True),
    "recommendation": Col(M.recommendation, E.EvaluationRecommendationEnum),
    "recommendation_manual": Col(M.recommendation_manual),
    "notes": Col(M.notes, filterable=False),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "evaluator_id": Col(M.evaluator_id),
}
SCORE_FIELDS: dict[str, Col] = {
    "score": Col(SM.score),
    "weight": Col(SM.weight),
    "comment": Col(SM.comment),
}


@strawberry.type(
    description="A weighted criterion the company judges its customer relationships on."
)
class EvaluationCriterion(Node):
    name: str
    description: str | None
    weight: Decimal = strawberry.field(description="Relative weight, > 0.")
    position: int = strawberry.field(description="Display order (ascending).")
    active: bool = strawberry.field(description="Only active criteria can be scored.")
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None

    @classmethod
    def from_model(cls, row: CM) -> EvaluationCriterion:
        return cls(
            id=strawberry.ID(to_global_id("EvaluationCriterion", row.id)),
            **read_fields(row, CRITERION_FIELDS),
        )


@strawberry.type(description="One criterion's score in an evaluation.")
class EvaluationScore:
    score: Decimal = strawberry.field(description="0–100.")
    weight: Decimal = strawberry.field(
        description="The criterion's weight when the score was given."
    )
    comment: str | None
    _criterion_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: SM) -> EvaluationScore:
        return cls(_criterion_id=row.criterion_id, **read_fields(row, SCORE_FIELDS))

    @strawberry.field(description="The criterion scored (also when deleted since).")
    async def criterion(self, info: Info) -> EvaluationCriterion | None:
        row = await info.context.loaders.evaluation_criterion_by_id.load(self._criterion_id)
        return EvaluationCriterion.from_model(row) if row is not None else None


@strawberry.type(
    description="An evaluation of the relationship with a customer (客户关系评估): scores on the "
    "company's criteria, their weighted total and a recommendation."
)
class RelationshipEvaluation(Node):
    evaluated_on: datetime.date
    total_score: Decimal = strawberry.field(
        description="Weighted mean of the scores, 0–100; recomputed whenever the scores change."
    )
    recommendation: E.EvaluationRecommendationEnum = strawberry.field(
        description="From the total and the company's thresholds unless chosen by a person."
    )
    recommendation_manual: bool = strawberry.field(
        description="True when a person chose the recommendation."
    )
    notes: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _pk: strawberry.Private[uuid.UUID]
    _customer_id: strawberry.Private[uuid.UUID]
    _evaluator_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: M) -> RelationshipEvaluation:
        return cls(
            id=strawberry.ID(to_global_id("RelationshipEvaluation", row.id)),
            _pk=row.id,
            _customer_id=row.customer_id,
            _evaluator_id=row.evaluator_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(description="The scores, in the criteria's order.")
    async def scores(self, info: Info) -> list[EvaluationScore]:
        rows = await info.context.loaders.evaluation_scores_by_evaluation_id.load(self._pk)
        return [EvaluationScore.from_model(r) for r in rows]

    @strawberry.field(description="The customer evaluated.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="Who evaluated.")
    async def evaluator(self, info: Info) -> User | None:
        return await user_of(info, self._evaluator_id)
