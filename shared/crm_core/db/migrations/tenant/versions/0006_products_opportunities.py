"""products, requirement analyses, opportunities and stage history

Revision ID: tenant_0006
Revises: tenant_0005
Create Date: 2026-11-26

"""

from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "tenant_0006"
down_revision: Union[str, Sequence[str], None] = "tenant_0005"
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


def _trgm(table: str) -> None:
    op.create_index(
        f"ix_{table}_search_trgm",
        table,
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "products",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_audited(),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_products_unit_price_not_negative")),
        sa.CheckConstraint("cost IS NULL OR cost >= 0", name=op.f("ck_products_cost_not_negative")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_products_currency_iso")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index(
        "uq_products_live_code",
        "products",
        ["code"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("ix_products_name_id", "products", ["name", "id"], unique=False)
    op.create_index("ix_products_category", "products", ["category"], unique=False)
    op.create_index("ix_products_created_at_id", "products", ["created_at", "id"], unique=False)
    _trgm("products")

    op.create_table(
        "requirement_analyses",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("product_features", sa.Text(), nullable=True),
        sa.Column("service_content", sa.Text(), nullable=True),
        sa.Column("desired_delivery_on", sa.Date(), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "medium",
                "high",
                "urgent",
                name="requirement_priority",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("analysis", sa.Text(), nullable=True),
        sa.Column("proposed_solution", sa.Text(), nullable=True),
        sa.Column(
            "implementation_status",
            sa.Enum(
                "proposed",
                "accepted",
                "in_progress",
                "implemented",
                "rejected",
                name="requirement_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("effect", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_audited(),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_requirement_analyses_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_requirement_analyses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requirement_analyses")),
    )
    op.create_index(
        "ix_requirement_analyses_customer_id_created_at",
        "requirement_analyses",
        ["customer_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_requirement_analyses_created_at_id",
        "requirement_analyses",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_requirement_analyses_contact_id", "requirement_analyses", ["contact_id"], unique=False
    )
    op.create_index(
        "ix_requirement_analyses_owner_id", "requirement_analyses", ["owner_id"], unique=False
    )
    _trgm("requirement_analyses")

    op.create_table(
        "opportunities",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("requirement_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("customer_need", sa.Text(), nullable=True),
        sa.Column("expected_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_close_on", sa.Date(), nullable=True),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("probability", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "open",
                "won",
                "lost",
                name="opportunity_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("won_reason", sa.Text(), nullable=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_audited(),
        sa.CheckConstraint(
            "expected_amount IS NULL OR expected_amount >= 0",
            name=op.f("ck_opportunities_expected_amount_not_negative"),
        ),
        sa.CheckConstraint(
            "probability BETWEEN 0 AND 100", name=op.f("ck_opportunities_probability_percent")
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_opportunities_currency_iso")),
        sa.CheckConstraint(
            "(outcome = 'open') = (closed_at IS NULL)",
            name=op.f("ck_opportunities_closed_at_matches_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_opportunities_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requirement_id"],
            ["requirement_analyses.id"],
            name=op.f("fk_opportunities_requirement_id_requirement_analyses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
    )
    op.create_index(
        "ix_opportunities_customer_id_created_at",
        "opportunities",
        ["customer_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_opportunities_created_at_id", "opportunities", ["created_at", "id"], unique=False
    )
    op.create_index(
        "ix_opportunities_expected_close_on_id",
        "opportunities",
        ["expected_close_on", "id"],
        unique=False,
    )
    op.create_index(
        "ix_opportunities_owner_id_expected_close_on",
        "opportunities",
        ["owner_id", "expected_close_on"],
        unique=False,
    )
    op.create_index(
        "ix_opportunities_requirement_id", "opportunities", ["requirement_id"], unique=False
    )
    op.create_index(
        "ix_opportunities_open_stage",
        "opportunities",
        ["stage"],
        unique=False,
        postgresql_where=sa.text("outcome = 'open' AND deleted_at IS NULL"),
    )
    _trgm("opportunities")

    op.create_table(
        "opportunity_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_opportunity_products_quantity_positive")),
        sa.CheckConstraint(
            "unit_price >= 0", name=op.f("ck_opportunity_products_unit_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_products_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_opportunity_products_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_products")),
    )
    op.create_index(
        "ix_opportunity_products_opportunity_id_position",
        "opportunity_products",
        ["opportunity_id", "position"],
        unique=False,
    )
    op.create_index(
        "ix_opportunity_products_product_id", "opportunity_products", ["product_id"], unique=False
    )

    op.create_table(
        "opportunity_stage_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("from_stage", sa.String(length=40), nullable=True),
        sa.Column("to_stage", sa.String(length=40), nullable=False),
        sa.Column("probability", sa.SmallInteger(), nullable=False),
        sa.Column("expected_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_stage_history_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_stage_history")),
    )
    op.create_index(
        "ix_opportunity_stage_history_opportunity_id_changed_at",
        "opportunity_stage_history",
        ["opportunity_id", "changed_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_opportunity_stage_history_changed_at",
        "opportunity_stage_history",
        ["changed_at"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("opportunity_stage_history")
    op.drop_table("opportunity_products")
    op.drop_table("opportunities")
    op.drop_table("requirement_analyses")
    op.drop_table("products")
