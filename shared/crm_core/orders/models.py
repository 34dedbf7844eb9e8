"""Order tables (交易记录表, 购买记录): what a customer bought, its lines, the money received and
refunded. The order row carries its totals, kept equal to its lines, payments and refunds by the
service in the same transaction (so lists and reports read them without aggregating)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Sequence,
    String,
    Text,
    Uuid,
    column,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum

# Numbers given to orders created without one (SO-000001…); per tenant schema.
order_number_seq = Sequence("order_number_seq", metadata=TenantBase.metadata)

ZERO = Decimal("0.00")


class OrderStatus(enum.StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    shipped = "shipped"
    completed = "completed"
    cancelled = "cancelled"


# The workflow, in one place: draft → confirmed → shipped → completed; draft and confirmed may be
# cancelled; completed and cancelled are final. Lines change only while the order is a draft.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.draft: frozenset({OrderStatus.confirmed, OrderStatus.cancelled}),
    OrderStatus.confirmed: frozenset({OrderStatus.shipped, OrderStatus.cancelled}),
    OrderStatus.shipped: frozenset({OrderStatus.completed}),
    OrderStatus.completed: frozenset(),
    OrderStatus.cancelled: frozenset(),
}


class PaymentMethod(enum.StrEnum):
    cash = "cash"
    bank_transfer = "bank_transfer"
    card = "card"
    alipay = "alipay"
    wechat_pay = "wechat_pay"
    cheque = "cheque"
    other = "other"


def _money() -> Mapped[Decimal]:
    return mapped_column(Numeric(14, 2), nullable=False, default=ZERO)


class Order(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "orders"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # The contract it is placed under (same customer); destroying the contract keeps the order.
    contract_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contracts.id", ondelete="SET NULL")
    )
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    ordered_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "order_status"), nullable=False, default=OrderStatus.draft
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    notes: Mapped[str | None] = mapped_column(Text)
    # Derived, never written by callers: sum of line amounts; sum of payments; sum of refunds.
    total_amount: Mapped[Decimal] = _money()
    paid_amount: Mapped[Decimal] = _money()
    refunded_amount: Mapped[Decimal] = _money()
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint(
            "total_amount >= 0 AND paid_amount >= 0 AND refunded_amount >= 0",
            name="totals_not_negative",
        ),
        # Money kept (paid less refunded) never exceeds what is owed; refunds never exceed
        # payments.
        CheckConstraint("paid_amount - refunded_amount <= total_amount", name="paid_within_total"),
        CheckConstraint("refunded_amount <= paid_amount", name="refunded_within_paid"),
        # Numbers are unique among live orders (a deleted order's number can be reused).
        Index(
            "uq_orders_number_live",
            "number",
            unique=True,
            postgresql_where=column("deleted_at").is_(None),
        ),
        # A customer's orders (Customer.orders, filters on customerId).
        Index("ix_orders_customer_id_ordered_on", "customer_id", "ordered_on", "id"),
        # A contract's orders (Contract.orders).
        Index("ix_orders_contract_id_ordered_on", "contract_id", "ordered_on", "id"),
        # The default list order, and "created" orderings.
        Index("ix_orders_ordered_on_id", "ordered_on", "id"),
        Index("ix_orders_created_at_id", "created_at", "id"),
        # "My orders" lists.
        Index("ix_orders_owner_id_ordered_on", "owner_id", "ordered_on"),
        Index(
            "ix_orders_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class OrderLine(IdMixin, TenantBase):
    """Part of its order: written only as the order's whole list of lines, audited with it."""

    __tablename__ = "order_lines"

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # Destroying a product keeps the lines that sold it, with the name they were sold under.
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("products.id", ondelete="SET NULL")
    )
    product_name: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    discount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=ZERO)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0 AND discount >= 0", name="price_not_negative"),
        CheckConstraint(
            "amount = round(quantity * unit_price - discount, 2) AND amount >= 0",
            name="amount_computed",
        ),
        # An order's lines in their order (Order.lines); one position once.
        Index("uq_order_lines_order_id_position", "order_id", "position", unique=True),
        # Sales per product (reports).
        Index("ix_order_lines_product_id", "product_id"),
    )


class _Money:
    """Columns shared by payments and refunds: immutable once written (recorded or destroyed)."""

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    # Always the order's currency (copied, so a row reads on its own).
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class OrderPayment(IdMixin, _Money, TenantBase):
    __tablename__ = "order_payments"

    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[PaymentMethod] = mapped_column(
        str_enum(PaymentMethod, "payment_method"), nullable=False
    )
    reference: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # An order's payments (Order.payments, and the totals).
        Index("ix_order_payments_order_id_paid_on", "order_id", "paid_on", "id"),
        # Cash-flow reports by date.
        Index("ix_order_payments_paid_on", "paid_on"),
    )


class OrderRefund(IdMixin, _Money, TenantBase):
    __tablename__ = "order_refunds"

    # The payment it returns, when known (of the same order).
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("order_payments.id", ondelete="SET NULL")
    )
    refunded_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # An order's refunds (Order.refunds, and the totals).
        Index("ix_order_refunds_order_id_refunded_on", "order_id", "refunded_on", "id"),
        Index("ix_order_refunds_payment_id", "payment_id"),
    )
