"""What a caller may write into a requirement analysis."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from crm_core.requirements.models import RequirementPriority, RequirementStatus

LongText = Annotated[str, StringConstraints(max_length=10_000)]


class RequirementFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contact_id: uuid.UUID | None = None
    summary: Annotated[str, StringConstraints(min_length=1, max_length=10_000)] | None = None
    product_features: LongText | None = None
    service_content: LongText | None = None
    desired_delivery_on: date | None = None
    priority: RequirementPriority | None = None
    analysis: LongText | None = None
    proposed_solution: LongText | None = None
    implementation_status: RequirementStatus | None = None
    effect: LongText | None = None
    owner_id: uuid.UUID | None = None
