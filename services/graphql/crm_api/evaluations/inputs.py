"""Evaluation inputs."""

from __future__ import annotations

import datetime
import enum
from decimal import Decimal

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import (
    BooleanFilter,
    DateFilter,
    DateTimeFilter,
    IDFilter,
    StringFilter,
    enum_filter,
)
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "RelationshipEvaluation", "customer_id": "Customer", "evaluator_id": "User"}
CRITERION_ID_FIELDS = {"id": "EvaluationCriterion"}
SCORE_ID_FIELDS = {"criterion_id": "EvaluationCriterion"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class EvaluationCriterionFilter:
    and_: list[EvaluationCriterionFilter] | None = strawberry.field(name="and", default=None)
    or_: list[EvaluationCriterionFilter] | None = strawberry.field(name="or", default=None)
    not_: EvaluationCriterionFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    name: StringFilter | None = None
    active: BooleanFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class EvaluationCriterionOrderField(enum.Enum):
    POSITION = "position"
    NAME = "name"
    WEIGHT = "weight"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class EvaluationCriterionOrderBy:
    field: EvaluationCriterionOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class CreateEvaluationCriterionInput:
    name: str
    weight: Decimal = strawberry.field(description="Relative weight, > 0.")
    description: str | None = UNSET
    position: int | None = strawberry.field(default=UNSET, description="0 when left out.")
    active: bool | None = strawberry.field(default=UNSET, description="True when left out.")


@strawberry.input
class UpdateEvaluationCriterionInput:
    name: str | None = UNSET
    weight: Decimal | None = strawberry.field(
        default=UNSET, description="Applies to evaluations written from now on."
    )
    description: str | None = UNSET
    position: int | None = UNSET
    active: bool | None = UNSET


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class RelationshipEvaluationFilter:
    and_: list[RelationshipEvaluationFilter] | None = strawberry.field(name="and", default=None)
    or_: list[RelationshipEvaluationFilter] | None = strawberry.field(name="or", default=None)
    not_: RelationshipEvaluationFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    evaluator_id: IDFilter | None = None
    evaluated_on: DateFilter | None = None
    recommendation: enum_filter(E.EvaluationRecommendationEnum) | None = None  # type: ignore[valid-type]
    recommendation_manual: BooleanFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class RelationshipEvaluationOrderField(enum.Enum):
    EVALUATED_ON = "evaluated_on"
    TOTAL_SCORE = "total_score"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class RelationshipEvaluationOrderBy:
    field: RelationshipEvaluationOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input(description="A score on one active criterion.")
class EvaluationScoreInput:
    criterion_id: strawberry.ID
    score: Decimal = strawberry.field(description="0–100.")
    comment: str | None = None


@strawberry.input
class CreateRelationshipEvaluationInput:
    scores: list[EvaluationScoreInput] = strawberry.field(
        description="At least one; each active criterion at most once."
    )
    evaluated_on: datetime.date | None = strawberry.field(
        default=UNSET, description="Today (in the company's time zone) when left out."
    )
    evaluator_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="You, when left out; a member within your data scope."
    )
    recommendation: E.EvaluationRecommendationEnum | None = strawberry.field(
        default=UNSET, description="Computed from the total and the thresholds when left out."
    )
    notes: str | None = UNSET


@strawberry.input
class UpdateRelationshipEvaluationInput:
    scores: list[EvaluationScoreInput] | None = strawberry.field(
        default=UNSET, description="Replaces every score; the total is recomputed."
    )
    evaluated_on: datetime.date | None = UNSET
    evaluator_id: strawberry.ID | None = UNSET
    recommendation: E.EvaluationRecommendationEnum | None = strawberry.field(
        default=UNSET, description="null hands it back to the computed one."
    )
    notes: str | None = UNSET
