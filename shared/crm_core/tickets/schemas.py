"""What a caller may write into a service ticket."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from crm_core.tickets.models import TicketPriority, TicketStatus

LongText = Annotated[str, StringConstraints(max_length=10_000)]


class TicketFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contact_id: uuid.UUID | None = None
    problem: Annotated[str, StringConstraints(min_length=1, max_length=10_000)] | None = None
    product: Annotated[str, StringConstraints(max_length=200)] | None = None
    expectation: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    priority: TicketPriority | None = None
    assignee_id: uuid.UUID | None = None
    status: TicketStatus | None = None
    # Timestamps carry their offset: a naive time means nothing in a multi-zone tenant.
    requested_at: AwareDatetime | None = None
    handled_at: AwareDatetime | None = None
    measures: LongText | None = None
    result: LongText | None = None
    resolved_at: AwareDatetime | None = None
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None = None
