"""Alembic environment for one tenant schema.

The schema comes from ``schema_for(tenant_id)`` only. DDL goes through the same
``schema_translate_map`` as the application; the version table lives inside the tenant schema,
so each tenant is at its own revision and can be migrated (or fail) on its own.
"""

from alembic import context
from sqlalchemy import text

from crm_core.db.migrate import tenant_metadata
from crm_core.tenancy import is_tenant_schema

config = context.config
schema: str = config.attributes["schema"]
if not is_tenant_schema(schema):
    raise ValueError(f"refusing to migrate {schema!r}: not a tenant schema")

connection = config.attributes["connection"].execution_options(schema_translate_map={None: schema})
connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
# Transaction-local, on a connection used only for this migration: lets autogenerate compare
# against the tenant schema and lets hand-written DDL in a revision name tables without a schema.
connection.execute(text(f'SET LOCAL search_path TO "{schema}", public'))
context.configure(
    connection=connection,
    target_metadata=tenant_metadata(),
    version_table_schema=schema,
    include_schemas=False,
    compare_type=True,
    include_object=lambda obj, name, kind, *_: not (kind == "table" and name == "alembic_version"),
)
with context.begin_transaction():
    context.run_migrations()
