"""relationship evaluations, survey templates, the shared customer pool

Revision ID: tenant_0010
Revises: tenant_0009
Create Date: 2026-11-26

"""

from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = "tenant_0010"
down_revision: Union[str, Sequence[str], None] = "tenant_0009"
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


def upgrade() -> None:
    # --- relationship evaluations -------------------------------------------------------------
    op.create_table(
        "evaluation_criteria",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("weight", sa.Numeric(6, 2), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_audited(),
        sa.CheckConstraint("weight > 0", name=op.f("ck_evaluation_criteria_weight_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_criteria")),
    )
    op.create_index(
        "uq_evaluation_criteria_live_name",
        "evaluation_criteria",
        ["name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("ix_evaluation_criteria_position_id", "evaluation_criteria", ["position", "id"])
    op.create_index(
        "ix_evaluation_criteria_created_at_id", "evaluation_criteria", ["created_at", "id"]
    )
    op.create_table(
        "relationship_evaluations",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("evaluator_id", sa.Uuid(), nullable=False),
        sa.Column("total_score", sa.Numeric(5, 2), nullable=False),
        sa.Column(
            "recommendation",
            _enum("evaluation_recommendation", "develop", "maintain", "end"),
            nullable=False,
        ),
        sa.Column("recommendation_manual", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        *_audited(),
        sa.CheckConstraint(
            "total_score BETWEEN 0 AND 100",
            name=op.f("ck_relationship_evaluations_total_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_relationship_evaluations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_evaluations")),
    )
    op.create_index(
        "ix_relationship_evaluations_customer_id_evaluated_on",
        "relationship_evaluations",
        ["customer_id", "evaluated_on", "id"],
    )
    op.create_index(
        "ix_relationship_evaluations_evaluated_on_id",
        "relationship_evaluations",
        ["evaluated_on", "id"],
    )
    op.create_index(
        "ix_relationship_evaluations_created_at_id",
        "relationship_evaluations",
        ["created_at", "id"],
    )
    op.create_index(
        "ix_relationship_evaluations_evaluator_id",
        "relationship_evaluations",
        ["evaluator_id", "evaluated_on"],
    )
    op.create_table(
        "evaluation_scores",
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Numeric(5, 2), nullable=False),
        sa.Column("weight", sa.Numeric(6, 2), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "score BETWEEN 0 AND 100", name=op.f("ck_evaluation_scores_score_range")
        ),
        sa.CheckConstraint("weight > 0", name=op.f("ck_evaluation_scores_weight_positive")),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["relationship_evaluations.id"],
            name=op.f("fk_evaluation_scores_evaluation_id_relationship_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["evaluation_criteria.id"],
            name=op.f("fk_evaluation_scores_criterion_id_evaluation_criteria"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_scores")),
        sa.UniqueConstraint(
            "evaluation_id",
            "criterion_id",
            name=op.f("uq_evaluation_scores_evaluation_id_criterion_id"),
        ),
    )
    op.create_index("ix_evaluation_scores_criterion_id", "evaluation_scores", ["criterion_id"])

    # --- survey templates ---------------------------------------------------------------------
    op.create_table(
        "survey_templates",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", _enum("survey_kind", "csat", "nps", "mixed"), nullable=False),
        sa.Column("language", _enum("survey_language", "zh", "en"), nullable=False),
        sa.Column(
            "trigger",
            _enum("survey_trigger", "manual", "ticket_resolved", "complaint_closed", "periodic"),
            nullable=False,
        ),
        sa.Column("period_days", sa.Integer(), nullable=True),
        sa.Column("intro", sa.Text(), nullable=True),
        sa.Column("questions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_audited(),
        sa.CheckConstraint(
            "(trigger = 'periodic') = (period_days IS NOT NULL)",
            name=op.f("ck_survey_templates_period_days_iff_periodic"),
        ),
        sa.CheckConstraint(
            "period_days IS NULL OR period_days BETWEEN 1 AND 3650",
            name=op.f("ck_survey_templates_period_days_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_templates")),
    )
    op.create_index(
        "uq_survey_templates_active_trigger",
        "survey_templates",
        ["trigger"],
        unique=True,
        postgresql_where=sa.text("active IS true AND deleted_at IS NULL"),
    )
    op.create_index("ix_survey_templates_name", "survey_templates", ["name"])
    op.create_index("ix_survey_templates_created_at_id", "survey_templates", ["created_at", "id"])

    # --- the shared customer pool (公海) --------------------------------------------------------
    op.add_column("customers", sa.Column("pool_entered_at", sa.DateTime(timezone=True)))
    op.add_column(
        "customers",
        sa.Column("pool_reason", _enum("pool_reason", "released", "reclaimed", "unassigned")),
    )
    op.add_column("customers", sa.Column("previous_owner_id", sa.Uuid()))
    op.add_column("customers", sa.Column("claimed_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_customers_pool_entered_at_id",
        "customers",
        ["pool_entered_at", "id"],
        postgresql_where=sa.text("owner_id IS NULL AND deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_customers_pool_entered_at_id", table_name="customers")
    op.drop_column("customers", "claimed_at")
    op.drop_column("customers", "previous_owner_id")
    # The enum's CHECK constraint goes with its column.
    op.drop_column("customers", "pool_reason")
    op.drop_column("customers", "pool_entered_at")
    op.drop_table("survey_templates")
    op.drop_table("evaluation_scores")
    op.drop_table("relationship_evaluations")
    op.drop_table("evaluation_criteria")
