"""Alembic environment for the control plane (schema ``core``)."""

from alembic import context
from sqlalchemy import text

from crm_core.db.migrate import core_metadata

config = context.config
connection = config.attributes["connection"]

connection.execute(text("CREATE SCHEMA IF NOT EXISTS core"))
# Trigram search on tenant tables; in ``public`` so every schema resolves the operator class.
connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
context.configure(
    connection=connection,
    target_metadata=core_metadata(),
    version_table_schema="core",
    # Compare the core schema only (tenant schemas have their own tree).
    include_schemas=True,
    include_name=lambda name, kind, parent: kind != "schema" or name == "core",
    compare_type=True,
    include_object=lambda obj, name, kind, *_: not (kind == "table" and name == "alembic_version"),
)
with context.begin_transaction():
    context.run_migrations()
