"""duplicate candidates and merges

Revision ID: tenant_0012
Revises: tenant_0011
Create Date: 2026-11-26

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = "tenant_0012"
down_revision: Union[str, Sequence[str], None] = "tenant_0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Customers: blocking keys (backfilled by the first scan) and the tombstone of a merge.
    op.add_column(
        "customers",
        sa.Column(
            "dedup_keys",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column("customers", sa.Column("merged_into_id", sa.Uuid(), nullable=True))
    op.add_column(
        "customers", sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_customers_dedup_keys", "customers", ["dedup_keys"], postgresql_using="gin"
    )
    op.create_index(
        "ix_customers_merged_into_id",
        "customers",
        ["merged_into_id"],
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
    )

    op.create_table(
        "duplicate_candidates",
        sa.Column(
            "kind",
            sa.Enum(
                "customer",
                "contact",
                "lead",
                name="duplicate_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("left_id", sa.Uuid(), nullable=False),
        sa.Column("right_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "dismissed",
                "merged",
                name="candidate_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "found_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merge_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "left_id <> right_id", name=op.f("ck_duplicate_candidates_distinct_sides")
        ),
        sa.CheckConstraint(
            "score >= 0 AND score <= 1", name=op.f("ck_duplicate_candidates_score_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_candidates")),
    )
    op.create_index(
        "uq_duplicate_candidates_pair",
        "duplicate_candidates",
        ["kind", "left_id", "right_id"],
        unique=True,
    )
    op.create_index(
        "ix_duplicate_candidates_status_score",
        "duplicate_candidates",
        ["status", "score", "id"],
    )
    op.create_index(
        "ix_duplicate_candidates_right_id", "duplicate_candidates", ["right_id"]
    )

    op.create_table(
        "customer_merges",
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column(
            "merged_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False
        ),
        sa.Column(
            "survivor_changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False
        ),
        sa.Column("moved", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("adjustments", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("choices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("merged_by", sa.Uuid(), nullable=True),
        sa.Column(
            "merged_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("undone_by", sa.Uuid(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "survivor_id <> merged_id", name=op.f("ck_customer_merges_distinct_customers")
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"],
            ["customers.id"],
            name=op.f("fk_customer_merges_merged_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["customers.id"],
            name=op.f("fk_customer_merges_survivor_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merges")),
    )
    op.create_index(
        "ix_customer_merges_survivor_id_merged_at",
        "customer_merges",
        ["survivor_id", "merged_at"],
    )
    op.create_index(
        "uq_customer_merges_live_merged_id",
        "customer_merges",
        ["merged_id"],
        unique=True,
        postgresql_where=sa.text("undone_at IS NULL"),
    )
    op.create_index(
        "ix_customer_merges_merged_at_id", "customer_merges", ["merged_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("customer_merges")
    op.drop_table("duplicate_candidates")
    op.drop_index("ix_customers_merged_into_id", table_name="customers")
    op.drop_index("ix_customers_dedup_keys", table_name="customers")
    op.drop_column("customers", "merged_at")
    op.drop_column("customers", "merged_into_id")
    op.drop_column("customers", "dedup_keys")
