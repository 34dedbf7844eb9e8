"""What a caller may write into a customer, with types and limits (the service normalises further)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm_core.customers.models import (
    AreaType,
    CreditRating,
    CustomerGrade,
    CustomerKind,
    CustomerSource,
    Gender,
    IncomeBand,
    LifecycleStage,
    PaymentHabit,
    ServiceMode,
)

Str40 = Annotated[str, StringConstraints(max_length=40)]
Str60 = Annotated[str, StringConstraints(max_length=60)]
Str100 = Annotated[str, StringConstraints(max_length=100)]
Str200 = Annotated[str, StringConstraints(max_length=200)]
Str300 = Annotated[str, StringConstraints(max_length=300)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Note = Annotated[str, StringConstraints(max_length=10_000)]


class ImportantDate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Str100
    date: date


class VisitWindow(BaseModel):
    """A time when the customer does not want visits ("do not visit" times)."""

    model_config = ConfigDict(extra="forbid")
    weekday: int | None = Field(None, ge=1, le=7, description="1 = Monday; empty = every day")
    start: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    end: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    note: Str100 | None = None


class CustomerFields(BaseModel):
    """All writable fields; every one optional so the same model serves create and update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: (
        Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\w.\-/]+$")]
        | None
    ) = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    kind: CustomerKind | None = None
    industry: Str100 | None = None
    grade: CustomerGrade | None = None
    tags: list[Tag] | None = Field(None, max_length=30)
    lifecycle_stage: LifecycleStage | None = None
    source: CustomerSource | None = None
    owner_id: uuid.UUID | None = None
    phone: Str40 | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    website: Str300 | None = None
    address_line: Str300 | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    province: Str60 | None = None
    city: Str60 | None = None
    district: Str60 | None = None
    street: Str200 | None = None
    postal_code: (
        Annotated[str, StringConstraints(max_length=12, pattern=r"^[A-Za-z0-9 \-]*$")] | None
    ) = None
    credit_rating: CreditRating | None = None
    payment_habit: PaymentHabit | None = None
    preferred_products: list[Str100] | None = Field(None, max_length=30)
    purchase_frequency: Str60 | None = None
    preferred_service_mode: ServiceMode | None = None
    gender: Gender | None = None
    birth_date: date | None = None
    area_type: AreaType | None = None
    income_band: IncomeBand | None = None
    important_dates: list[ImportantDate] | None = Field(None, max_length=30)
    do_not_visit: list[VisitWindow] | None = Field(None, max_length=30)
    distance_km: Decimal | None = Field(None, ge=0, le=100_000, max_digits=8, decimal_places=2)
    notes: Note | None = None
    # Sensitive: stored encrypted (see crm_core.security.tenant_keys).
    tax_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\- ]+$")]
        | None
    ) = None
    bank_account: (
        Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\- ]+$")]
        | None
    ) = None
