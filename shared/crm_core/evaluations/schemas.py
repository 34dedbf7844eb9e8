"""What a caller may write into evaluation criteria and relationship evaluations."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm_core.evaluations.models import Recommendation

MAX_SCORES = 50


class CriterionFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    weight: Annotated[Decimal, Field(gt=0, le=1000, max_digits=6, decimal_places=2)] | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None
    active: bool | None = None


class ScoreFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    criterion_id: uuid.UUID
    score: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
    comment: Annotated[str, StringConstraints(max_length=2_000)] | None = None


class EvaluationFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    evaluated_on: date | None = None
    evaluator_id: uuid.UUID | None = None
    recommendation: Recommendation | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    scores: Annotated[list[ScoreFields], Field(max_length=MAX_SCORES)] | None = None
