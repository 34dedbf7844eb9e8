"""What a caller may write into a lead (the service normalises further)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm_core.customers.models import CustomerSource
from crm_core.leads.models import LeadStatus

Str60 = Annotated[str, StringConstraints(max_length=60)]
Str120 = Annotated[str, StringConstraints(max_length=120)]
Interest = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class LeadFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    company_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    title: Str120 | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    source: CustomerSource | None = None
    interests: list[Interest] | None = Field(None, max_length=30)
    status: LeadStatus | None = None
    score: Annotated[int, Field(ge=0, le=100)] | None = None
    owner_id: uuid.UUID | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    province: Str60 | None = None
    city: Str60 | None = None
