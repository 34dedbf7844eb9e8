"""search vocabulary for typo correction, filled by statement triggers; live customer ids

Revision ID: tenant_0015
Revises: tenant_0014
Create Date: 2026-11-26

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "tenant_0015"
down_revision: Union[str, Sequence[str], None] = "tenant_0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SOURCES = ("customers", "contacts", "leads")

# The words of the rows a statement wrote (its transition table ``written``): split on blanks,
# 3 to 64 characters, at least one Latin letter, no digit unless an e-mail address (not codes),
# not there yet. No unique key (see crm_core.search.models): nothing waits on another writer.
# The function lives in each tenant schema and names the table through TG_TABLE_SCHEMA, so it
# works whatever the session's search_path.
COLLECT = r"""
CREATE FUNCTION collect_search_words() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    EXECUTE format(
        'INSERT INTO %1$I.search_words (word)
         SELECT DISTINCT w FROM written, regexp_split_to_table(written.search_text, ''\s+'') AS w
         WHERE length(w) BETWEEN 3 AND 64 AND w ~ ''[a-z]''
           AND (w LIKE ''%%@%%'' OR w !~ ''[0-9]'')
           AND NOT EXISTS (SELECT 1 FROM %1$I.search_words known WHERE known.word = w)',
        TG_TABLE_SCHEMA);
    RETURN NULL;
END
$body$
"""


def _words_of(table: str) -> str:
    return (
        "SELECT DISTINCT w FROM "
        f"{table}, regexp_split_to_table({table}.search_text, '\\s+') AS w "
        "WHERE length(w) BETWEEN 3 AND 64 AND w ~ '[a-z]' AND (w LIKE '%@%' OR w !~ '[0-9]')"
    )


def upgrade() -> None:
    op.create_index(
        "ix_customers_live_id",
        "customers",
        ["id"],
        unique=False,
        postgresql_include=["merged_into_id"],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "search_words",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("word", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_words")),
    )
    op.create_index("ix_search_words_word", "search_words", ["word"], unique=False)
    # Two indexes: e-mail addresses apart, so a name's look-up never wades through them.
    for name, where in (
        ("ix_search_words_trgm", "word NOT LIKE '%@%'"),
        ("ix_search_words_email_trgm", "word LIKE '%@%'"),
    ):
        op.create_index(
            name,
            "search_words",
            ["word"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
            postgresql_where=sa.text(where),
        )
    op.execute(COLLECT)
    for table in SOURCES:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_search_words_{event.lower()} AFTER {event} ON {table} "
                "REFERENCING NEW TABLE AS written FOR EACH STATEMENT "
                "EXECUTE FUNCTION collect_search_words()"
            )
        op.execute(
            f"INSERT INTO search_words (word) {_words_of(table)} "
            "AND NOT EXISTS (SELECT 1 FROM search_words known WHERE known.word = w)"
        )


def downgrade() -> None:
    op.drop_index("ix_customers_live_id", table_name="customers")
    for table in SOURCES:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER {table}_search_words_{event} ON {table}")
    op.execute("DROP FUNCTION collect_search_words()")
    op.drop_index("ix_search_words_email_trgm", table_name="search_words")
    op.drop_index("ix_search_words_trgm", table_name="search_words")
    op.drop_index("ix_search_words_word", table_name="search_words")
    op.drop_table("search_words")
