"""The product catalogue (products, with price and cost, so sales and profit can be analysed per
product; domain.md "Further tables"). Tenant-wide: a product hangs off no customer."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Index, Numeric, String, Text, column
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase

# Amounts: 12 digits before the point are enough for any single price or deal in CNY.
Money = Numeric(14, 2)


class Product(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "products"

    # The SKU: what people and spreadsheets use to name a product.
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str | None] = mapped_column(String(100))
    # 台 / 套 / piece …: free text, the company's own units.
    unit: Mapped[str | None] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0"))
    cost: Mapped[Decimal | None] = mapped_column(Money)
    # ISO 4217, upper case; the company's currency unless given.
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Inactive products stay on past deals but are not offered on new ones.
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("cost IS NULL OR cost >= 0", name="cost_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        # A code names one live product; a deleted one gives its code up (restore re-checks).
        Index(
            "uq_products_live_code",
            "code",
            unique=True,
            postgresql_where=column("deleted_at").is_(None),
        ),
        # The default list order (by name) and "category" filters.
        Index("ix_products_name_id", "name", "id"),
        Index("ix_products_category", "category"),
        Index("ix_products_created_at_id", "created_at", "id"),
        # search: name, code, category.
        Index(
            "ix_products_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
