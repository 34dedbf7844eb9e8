"""What a caller may write into an opportunity and its product lines."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from crm_core.products.schemas import Amount, Currency

LongText = Annotated[str, StringConstraints(max_length=10_000)]
MAX_LINES = 200


class LineFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    # Stored with three decimals, so "1.5" and "1.500" are the same line to the audit.
    quantity: Annotated[
        Decimal,
        Field(gt=0, max_digits=14, decimal_places=3),
        AfterValidator(lambda v: v.quantize(Decimal("0.001"))),
    ]
    # The product's list price when left out (in the opportunity's currency only).
    unit_price: Amount | None = None


class OpportunityFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    requirement_id: uuid.UUID | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    description: LongText | None = None
    customer_need: LongText | None = None
    expected_amount: Amount | None = None
    currency: Currency | None = None
    expected_close_on: date | None = None
    stage: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    probability: Annotated[int, Field(ge=0, le=100)] | None = None
    source: Annotated[str, StringConstraints(max_length=100)] | None = None
    owner_id: uuid.UUID | None = None
    progress: LongText | None = None
    won_reason: LongText | None = None
    lost_reason: LongText | None = None
    products: Annotated[list[LineFields], Field(max_length=MAX_LINES)] | None = None
