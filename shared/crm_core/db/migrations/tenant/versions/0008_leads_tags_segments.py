"""leads, tags and saved segments

Revision ID: tenant_0008
Revises: tenant_0007
Create Date: 2026-11-26

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "tenant_0008"
down_revision: str | Sequence[str] | None = "tenant_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audited() -> list[sa.Column]:  # type: ignore[type-arg]
    """The columns of AuditedMixin (and IdMixin), as every tenant table has them."""
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


def _trigram(name: str, table: str, column: str) -> None:
    op.create_index(
        name,
        table,
        [column],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    )


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("phone_raw", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "referral",
                "website",
                "exhibition",
                "cold_call",
                "advertising",
                "partner",
                "social_media",
                "walk_in",
                "other",
                name="lead_source",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("interests", sa.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "contacted",
                "qualified",
                "unqualified",
                "converted",
                name="lead_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("province", sa.String(length=60), nullable=True),
        sa.Column("city", sa.String(length=60), nullable=True),
        sa.Column("converted_customer_id", sa.Uuid(), nullable=True),
        sa.Column("converted_contact_id", sa.Uuid(), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("search_public", sa.Text(), nullable=False),
        *_audited(),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_leads_score_range")),
        sa.CheckConstraint(
            "(status = 'converted') = (converted_at IS NOT NULL)",
            name=op.f("ck_leads_converted_at_matches_status"),
        ),
        sa.ForeignKeyConstraint(
            ["converted_customer_id"],
            ["customers.id"],
            name=op.f("fk_leads_converted_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["converted_contact_id"],
            ["contacts.id"],
            name=op.f("fk_leads_converted_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index("ix_leads_created_at_id", "leads", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_leads_owner_id_created_at", "leads", ["owner_id", "created_at"], unique=False
    )
    op.create_index("ix_leads_status_created_at", "leads", ["status", "created_at"], unique=False)
    op.create_index("ix_leads_score_id", "leads", ["score", "id"], unique=False)
    op.create_index("ix_leads_phone", "leads", ["phone"], unique=False)
    op.create_index("ix_leads_email", "leads", ["email"], unique=False)
    op.create_index(
        "ix_leads_converted_customer_id", "leads", ["converted_customer_id"], unique=False
    )
    op.create_index(
        "ix_leads_converted_contact_id", "leads", ["converted_contact_id"], unique=False
    )
    _trigram("ix_leads_search_trgm", "leads", "search_text")
    _trigram("ix_leads_search_public_trgm", "leads", "search_public")
    op.create_index(
        "ix_leads_live_created_at_id",
        "leads",
        ["created_at", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "tags",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        *_audited(),
        sa.CheckConstraint(
            "color IS NULL OR color ~ '^#[0-9A-F]{6}$'", name=op.f("ck_tags_color_hex")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
    )
    op.create_index(
        "uq_tags_live_name",
        "tags",
        [sa.text("lower(name)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("ix_tags_name_id", "tags", ["name", "id"], unique=False)
    op.create_index("ix_tags_created_at_id", "tags", ["created_at", "id"], unique=False)
    op.create_index("ix_tags_category", "tags", ["category"], unique=False)

    op.create_table(
        "segments",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("filter", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        *_audited(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    op.create_index("ix_segments_owner_id_name", "segments", ["owner_id", "name"], unique=False)
    op.create_index(
        "ix_segments_shared_name",
        "segments",
        ["name"],
        unique=False,
        postgresql_where=sa.text("shared IS true AND deleted_at IS NULL"),
    )
    op.create_index("ix_segments_name_id", "segments", ["name", "id"], unique=False)
    op.create_index("ix_segments_created_at_id", "segments", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("segments")  # its indexes go with it
    op.drop_table("tags")
    op.drop_table("leads")
