"""What a caller may write into an activity or an attendee."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from crm_core.activities.models import ActivityKind, ActivityStatus, AttendeeStatus


class ActivityFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    kind: ActivityKind | None = None
    status: ActivityStatus | None = None
    # Timestamps carry their offset: a naive time means nothing in a multi-zone tenant.
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    location: Annotated[str, StringConstraints(max_length=300)] | None = None
    online_url: (
        Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://\S+$")] | None
    ) = None
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    capacity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    owner_id: uuid.UUID | None = None


class AttendeeFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    status: AttendeeStatus | None = None
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None
