"""What a caller may write into a product."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# ISO 4217 codes: three letters, stored upper case.
Currency = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{3}$")]
# Money: not negative, at most cents; stored and answered with two decimals ("1200.50").
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    AfterValidator(lambda v: v.quantize(Decimal("0.01"))),
]


class ProductFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    category: Annotated[str, StringConstraints(max_length=100)] | None = None
    unit: Annotated[str, StringConstraints(max_length=20)] | None = None
    unit_price: Amount | None = None
    cost: Amount | None = None
    currency: Currency | None = None
    active: bool | None = None
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
