"""What a caller may write into an interaction."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

from crm_core.interactions.models import InteractionChannel


class InteractionFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    contact_id: uuid.UUID | None = None
    # Timestamps carry their offset: a naive time means nothing in a multi-zone tenant.
    occurred_at: AwareDatetime | None = None
    channel: InteractionChannel | None = None
    staff_user_id: uuid.UUID | None = None
    subject: Annotated[str, StringConstraints(max_length=200)] | None = None
    content: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    result: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    next_contact_on: date | None = None
