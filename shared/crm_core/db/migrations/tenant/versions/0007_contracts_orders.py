"""contracts, deliveries, orders, lines, payments and refunds

Revision ID: tenant_0007
Revises: tenant_0006
Create Date: 2026-11-26

"""

from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "tenant_0007"
down_revision: Union[str, Sequence[str], None] = "tenant_0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _audited() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def _money_row() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
    ]


def _trgm(name: str, table: str) -> None:
    op.create_index(
        name,
        table,
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("contract_number_seq")))
    op.execute(sa.schema.CreateSequence(sa.Sequence("order_number_seq")))

    op.create_table(
        "contracts",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("opportunity_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            _enum("contract_status", "draft", "active", "completed", "terminated", "expired"),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_audited(),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_contracts_amount_not_negative")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_contracts_currency_iso")),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_contracts_ends_after_start")),
        sa.CheckConstraint(
            "signed_on IS NULL OR signed_on <= ends_on",
            name=op.f("ck_contracts_signed_not_after_end"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contracts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_contracts_opportunity_id_opportunities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    op.create_index(
        "uq_contracts_number_live",
        "contracts",
        ["number"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_contracts_customer_id_starts_on", "contracts", ["customer_id", "starts_on", "id"]
    )
    op.create_index("ix_contracts_starts_on_id", "contracts", ["starts_on", "id"])
    op.create_index("ix_contracts_created_at_id", "contracts", ["created_at", "id"])
    op.create_index("ix_contracts_opportunity_id", "contracts", ["opportunity_id"])
    op.create_index("ix_contracts_owner_id_starts_on", "contracts", ["owner_id", "starts_on"])
    op.create_index(
        "ix_contracts_active_ends_on",
        "contracts",
        ["ends_on"],
        postgresql_where=sa.text("status = 'active' AND deleted_at IS NULL"),
    )
    _trgm("ix_contracts_search_trgm", "contracts")

    op.create_table(
        "contract_deliveries",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column(
            "acceptance_status",
            _enum("acceptance_status", "pending", "accepted", "rejected"),
            nullable=False,
        ),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("acceptance_notes", sa.Text(), nullable=True),
        *_audited(),
        sa.CheckConstraint(
            "(acceptance_status = 'accepted') = (accepted_on IS NOT NULL)",
            name=op.f("ck_contract_deliveries_accepted_on_matches_status"),
        ),
        sa.CheckConstraint(
            "acceptance_status = 'pending' OR delivered_on IS NOT NULL",
            name=op.f("ck_contract_deliveries_judged_after_delivery"),
        ),
        sa.CheckConstraint(
            "accepted_on IS NULL OR accepted_on >= delivered_on",
            name=op.f("ck_contract_deliveries_accepted_after_delivery"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_deliveries_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_deliveries")),
    )
    op.create_index(
        "ix_contract_deliveries_contract_id_due_on",
        "contract_deliveries",
        ["contract_id", "due_on", "id"],
    )
    op.create_index("ix_contract_deliveries_due_on_id", "contract_deliveries", ["due_on", "id"])
    op.create_index(
        "ix_contract_deliveries_created_at_id", "contract_deliveries", ["created_at", "id"]
    )
    op.create_index(
        "ix_contract_deliveries_undelivered_due_on",
        "contract_deliveries",
        ["due_on"],
        postgresql_where=sa.text("delivered_on IS NULL AND deleted_at IS NULL"),
    )

    op.create_table(
        "orders",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            _enum("order_status", "draft", "confirmed", "shipped", "completed", "cancelled"),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("total_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("refunded_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_audited(),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_orders_currency_iso")),
        sa.CheckConstraint(
            "total_amount >= 0 AND paid_amount >= 0 AND refunded_amount >= 0",
            name=op.f("ck_orders_totals_not_negative"),
        ),
        sa.CheckConstraint(
            "paid_amount - refunded_amount <= total_amount",
            name=op.f("ck_orders_paid_within_total"),
        ),
        sa.CheckConstraint(
            "refunded_amount <= paid_amount", name=op.f("ck_orders_refunded_within_paid")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_orders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_orders_contract_id_contracts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(
        "uq_orders_number_live",
        "orders",
        ["number"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_orders_customer_id_ordered_on", "orders", ["customer_id", "ordered_on", "id"]
    )
    op.create_index(
        "ix_orders_contract_id_ordered_on", "orders", ["contract_id", "ordered_on", "id"]
    )
    op.create_index("ix_orders_ordered_on_id", "orders", ["ordered_on", "id"])
    op.create_index("ix_orders_created_at_id", "orders", ["created_at", "id"])
    op.create_index("ix_orders_owner_id_ordered_on", "orders", ["owner_id", "ordered_on"])
    _trgm("ix_orders_search_trgm", "orders")

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("unit_price", sa.Numeric(14, 2), nullable=False),
        sa.Column("discount", sa.Numeric(14, 2), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "unit_price >= 0 AND discount >= 0", name=op.f("ck_order_lines_price_not_negative")
        ),
        sa.CheckConstraint(
            "amount = round(quantity * unit_price - discount, 2) AND amount >= 0",
            name=op.f("ck_order_lines_amount_computed"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_order_lines_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    op.create_index(
        "uq_order_lines_order_id_position", "order_lines", ["order_id", "position"], unique=True
    )
    op.create_index("ix_order_lines_product_id", "order_lines", ["product_id"])

    op.create_table(
        "order_payments",
        *_money_row(),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column(
            "method",
            _enum(
                "payment_method",
                "cash",
                "bank_transfer",
                "card",
                "alipay",
                "wechat_pay",
                "cheque",
                "other",
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_order_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_payments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_payments")),
    )
    op.create_index(
        "ix_order_payments_order_id_paid_on", "order_payments", ["order_id", "paid_on", "id"]
    )
    op.create_index("ix_order_payments_paid_on", "order_payments", ["paid_on"])

    op.create_table(
        "order_refunds",
        *_money_row(),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("refunded_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_order_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_refunds_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["order_payments.id"],
            name=op.f("fk_order_refunds_payment_id_order_payments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
    )
    op.create_index(
        "ix_order_refunds_order_id_refunded_on",
        "order_refunds",
        ["order_id", "refunded_on", "id"],
    )
    op.create_index("ix_order_refunds_payment_id", "order_refunds", ["payment_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints with it.
    op.drop_table("order_refunds")
    op.drop_table("order_payments")
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("contract_deliveries")
    op.drop_table("contracts")
    op.execute(sa.schema.DropSequence(sa.Sequence("order_number_seq")))
    op.execute(sa.schema.DropSequence(sa.Sequence("contract_number_seq")))
