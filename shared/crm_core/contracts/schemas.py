"""What a caller may write into a contract or one of its deliveries."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm_core.contracts.models import AcceptanceStatus, ContractStatus

LongText = Annotated[str, StringConstraints(max_length=20_000)]
MidText = Annotated[str, StringConstraints(max_length=10_000)]
# Amounts as stored: at most 12 digits before the point and 2 after, never negative.
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
# ISO 4217 letters; lower case is accepted and upper-cased.
Currency = Annotated[
    str, StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$", to_upper=True)
]
Number = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class ContractFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    opportunity_id: uuid.UUID | None = None
    number: Number | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    signed_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    amount: Money | None = None
    currency: Currency | None = None
    status: ContractStatus | None = None
    owner_id: uuid.UUID | None = None
    terms: LongText | None = None
    notes: MidText | None = None


class DeliveryFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    due_on: date | None = None
    content: Annotated[str, StringConstraints(min_length=1, max_length=10_000)] | None = None
    delivered_on: date | None = None
    acceptance_status: AcceptanceStatus | None = None
    accepted_on: date | None = None
    acceptance_notes: MidText | None = None
