"""The Product type (an entry of the company's catalogue)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry

from crm_api.columns import Col, read_fields
from crm_api.relay import Node, to_global_id
from crm_core.products.models import Product as M

FIELDS: dict[str, Col] = {
    "code": Col(M.code, sortable=True),
    "name": Col(M.name, sortable=True),
    "category": Col(M.category, sortable=True),
    "unit": Col(M.unit),
    "unit_price": Col(M.unit_price, sortable=True),
    "cost": Col(M.cost, sortable=True),
    "currency": Col(M.currency),
    "active": Col(M.active),
    "description": Col(M.description, filterable=False),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as global ids, not scalars.
HIDDEN: dict[str, Col] = {"id": Col(M.id, sortable=True)}


@strawberry.type(description="A product or service the company sells (its catalogue).")
class Product(Node):
    code: str = strawberry.field(description="The SKU: unique among live products.")
    name: str
    category: str | None
    unit: str | None = strawberry.field(description="台, 套, piece…")
    unit_price: Decimal = strawberry.field(description="List price, in `currency`.")
    cost: Decimal | None = strawberry.field(description="Unit cost, for margins.")
    currency: str = strawberry.field(description="ISO 4217.")
    active: bool = strawberry.field(description="Offered on new opportunities.")
    description: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None

    @classmethod
    def from_model(cls, row: M) -> Product:
        return cls(id=strawberry.ID(to_global_id("Product", row.id)), **read_fields(row, FIELDS))
