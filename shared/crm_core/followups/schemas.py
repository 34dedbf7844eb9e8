"""What a caller may write into a follow-up."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

from crm_core.followups.models import FollowUpStatus

LongText = Annotated[str, StringConstraints(max_length=10_000)]


class FollowUpFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    owner_id: uuid.UUID | None = None
    # Timestamps carry their offset: a naive time means nothing in a multi-zone tenant.
    scheduled_at: AwareDatetime | None = None
    remind_at: AwareDatetime | None = None
    status: FollowUpStatus | None = None
    done_at: AwareDatetime | None = None
    content: LongText | None = None
    result: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    customer_feedback: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    next_follow_up_at: AwareDatetime | None = None
