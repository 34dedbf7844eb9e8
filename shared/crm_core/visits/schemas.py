"""What a caller may write into a visit plan or a visit record."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from crm_core.visits.models import VisitOutcome, VisitPlanStatus

LongText = Annotated[str, StringConstraints(max_length=10_000)]


class VisitPlanFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contact_id: uuid.UUID | None = None
    # Timestamps carry their offset: a naive time means nothing in a multi-zone tenant.
    planned_at: AwareDatetime | None = None
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    place: Annotated[str, StringConstraints(max_length=300)] | None = None
    visitor_id: uuid.UUID | None = None
    status: VisitPlanStatus | None = None
    notes: LongText | None = None


class VisitRecordFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contact_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    visited_at: AwareDatetime | None = None
    visitor_id: uuid.UUID | None = None
    outcome: VisitOutcome | None = None
    content: LongText | None = None
    problems_solved: LongText | None = None
    watch_next_time: LongText | None = None
    expenses: Decimal | None = Field(
        None, ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] | None = None
    next_visit_on: date | None = None
