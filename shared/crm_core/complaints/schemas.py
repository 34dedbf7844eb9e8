"""What a caller may write into a complaint."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from crm_core.complaints.models import ComplaintKind, ComplaintSeverity, ComplaintStatus

LongText = Annotated[str, StringConstraints(max_length=10_000)]
MidText = Annotated[str, StringConstraints(max_length=2_000)]


class ComplaintFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contact_id: uuid.UUID | None = None
    kind: ComplaintKind | None = None
    description: Annotated[str, StringConstraints(min_length=1, max_length=10_000)] | None = None
    product_or_service: Annotated[str, StringConstraints(max_length=200)] | None = None
    customer_expectation: MidText | None = None
    severity: ComplaintSeverity | None = None
    assignee_id: uuid.UUID | None = None
    status: ComplaintStatus | None = None
    # Timestamps carry their offset: a naive time means nothing in a multi-zone tenant.
    received_at: AwareDatetime | None = None
    sla_due_at: AwareDatetime | None = None
    handled_at: AwareDatetime | None = None
    measures: LongText | None = None
    resolution: LongText | None = None
    resolved_at: AwareDatetime | None = None
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None = None
