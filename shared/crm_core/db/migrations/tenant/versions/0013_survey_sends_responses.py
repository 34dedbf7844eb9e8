"""survey sends and responses

Revision ID: tenant_0013
Revises: tenant_0012
Create Date: 2026-11-26

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = "tenant_0013"
down_revision: Union[str, Sequence[str], None] = "tenant_0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "survey_sends",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column(
            "trigger",
            _enum("survey_trigger", "manual", "ticket_resolved", "complaint_closed", "periodic"),
            nullable=False,
        ),
        sa.Column(
            "source_kind",
            _enum("survey_source_kind", "ticket", "complaint", "periodic", "manual"),
            nullable=False,
        ),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("complaint_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            _enum("survey_send_status", "queued", "sent", "responded", "expired", "failed"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.CheckConstraint(
            "(status = 'responded') = (responded_at IS NOT NULL)",
            name=op.f("ck_survey_sends_responded_at_iff_status"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'failed') OR (token_hash IS NOT NULL AND expires_at IS NOT NULL"
            " AND sent_at IS NOT NULL)",
            name=op.f("ck_survey_sends_link_once_sent"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
            name=op.f("fk_survey_sends_template_id_survey_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_sends_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_survey_sends_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["service_tickets.id"],
            name=op.f("fk_survey_sends_ticket_id_service_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_survey_sends_complaint_id_complaints"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_sends")),
        sa.UniqueConstraint(
            "template_id", "source_key", name=op.f("uq_survey_sends_template_id_source_key")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_sends_token_hash")),
    )
    op.create_index(
        "ix_survey_sends_created_at_id", "survey_sends", ["created_at", "id"], unique=False
    )
    op.create_index(
        "ix_survey_sends_customer_id_created_at",
        "survey_sends",
        ["customer_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_survey_sends_ticket_id", "survey_sends", ["ticket_id"], unique=False)
    op.create_index("ix_survey_sends_complaint_id", "survey_sends", ["complaint_id"], unique=False)
    op.create_index(
        "ix_survey_sends_awaiting",
        "survey_sends",
        ["sent_at"],
        unique=False,
        postgresql_where=sa.text("status = 'sent'"),
    )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("send_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("nps", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "submitted_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False
        ),
        sa.Column("ip_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "csat IS NULL OR csat BETWEEN 1 AND 5", name=op.f("ck_survey_responses_csat_range")
        ),
        sa.CheckConstraint(
            "nps IS NULL OR nps BETWEEN 0 AND 10", name=op.f("ck_survey_responses_nps_range")
        ),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["survey_sends.id"],
            name=op.f("fk_survey_responses_send_id_survey_sends"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
            name=op.f("fk_survey_responses_template_id_survey_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_responses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("send_id", name=op.f("uq_survey_responses_send_id")),
    )
    op.create_index(
        "ix_survey_responses_submitted_at_id",
        "survey_responses",
        ["submitted_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_survey_responses_customer_id", "survey_responses", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_survey_responses_template_id", "survey_responses", ["template_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_survey_responses_template_id", table_name="survey_responses")
    op.drop_index("ix_survey_responses_customer_id", table_name="survey_responses")
    op.drop_index("ix_survey_responses_submitted_at_id", table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_index("ix_survey_sends_awaiting", table_name="survey_sends")
    op.drop_index("ix_survey_sends_complaint_id", table_name="survey_sends")
    op.drop_index("ix_survey_sends_ticket_id", table_name="survey_sends")
    op.drop_index("ix_survey_sends_customer_id_created_at", table_name="survey_sends")
    op.drop_index("ix_survey_sends_created_at_id", table_name="survey_sends")
    op.drop_table("survey_sends")
