"""The PostgreSQL side of backups: catalog reads, COPY out and in, sequences, locks.

This is raw SQL on a tenant's schema, so it lives apart from the domain code, and it names the
schema only through ``schema_for()`` (a validated ``tenant_<hex>``); table, column and sequence
names come from the catalog and are quoted. It runs on a *dedicated* asyncpg connection, not the
process's pool: a backup touches every table of a tenant, and each pooled backend would otherwise
keep all of their catalog entries cached for its lifetime (see pitfalls.md), and a backup's long
statements must not count against the pool's statement timeout.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from crm_core.db import migrate
from crm_core.tenancy import schema_for

VERSION_TABLE = "alembic_version"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dsn_of(url: str) -> str:
    """A plain ``postgresql://`` DSN for asyncpg from the settings' URL (any driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(url: str, *, application_name: str = "crm-backup") -> asyncpg.Connection:
    return await asyncpg.connect(
        dsn_of(url),
        server_settings={
            "application_name": application_name,
            # Whole-table COPYs run as long as the table is big; the process is dedicated to this.
            "statement_timeout": "0",
            "idle_in_transaction_session_timeout": "600000",
            # A backend whose client died (kill -9) notices within a second even while it waits
            # for a lock or streams a COPY, and lets its locks go (PostgreSQL 14+).
            "client_connection_check_interval": "1000",
        },
    )


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


_TABLES = """
SELECT c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2
  AND a.attgenerated = ''
ORDER BY c.relname, a.attnum
"""

_FOREIGN_KEYS = """
SELECT DISTINCT child.relname AS child, parent.relname AS parent
FROM pg_constraint k
JOIN pg_class child ON child.oid = k.conrelid
JOIN pg_class parent ON parent.oid = k.confrelid
JOIN pg_namespace n ON n.oid = child.relnamespace
WHERE k.contype = 'f' AND n.nspname = $1 AND parent.relnamespace = child.relnamespace
  AND child.oid <> parent.oid
"""


async def tables_in_dependency_order(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> list[Table]:
    """Every table of the tenant's schema (not the version table), parents before children.

    Self-references need no order: PostgreSQL checks a non-deferred foreign key at the end of
    the statement, so one COPY may hold a child row before its parent.
    """
    schema = schema_for(tenant_id)
    columns: dict[str, list[Column]] = {}
    for row in await conn.fetch(_TABLES, schema, VERSION_TABLE):
        columns.setdefault(row["table_name"], []).append(
            Column(row["column_name"], row["column_type"])
        )
    parents: dict[str, set[str]] = {name: set() for name in columns}
    for row in await conn.fetch(_FOREIGN_KEYS, schema):
        if row["child"] in parents and row["parent"] in parents:
            parents[row["child"]].add(row["parent"])
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(parents):
        ready = sorted(n for n, p in parents.items() if n not in done and p <= done)
        if not ready:
            # A cycle between tables: nothing in today's schema has one. Load the rest by name;
            # the restore's foreign-key checks would then refuse, inside its transaction.
            ready = sorted(n for n in parents if n not in done)
        order.extend(ready)
        done.update(ready)
    return [Table(name, tuple(columns[name])) for name in order]


async def sequences(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    schema = schema_for(tenant_id)
    # ``owned_by``: the table of a serial or identity column the sequence feeds, if any.
    names = await conn.fetch(
        "SELECT c.relname, t.relname AS owned_by FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass "
        "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "LEFT JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname",
        schema,
    )
    out = []
    for name, owned_by in names:
        row = await conn.fetchrow(
            f"SELECT last_value, is_called FROM {quote_ident(schema)}.{quote_ident(name)}"
        )
        assert row is not None
        out.append(
            {
                "name": name,
                "last_value": row["last_value"],
                "is_called": row["is_called"],
                "owned_by": owned_by,
            }
        )
    return out


async def set_sequences(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, values: list[dict[str, Any]]
) -> None:
    schema = schema_for(tenant_id)
    for seq in values:
        qualified = f"{quote_ident(schema)}.{quote_ident(seq['name'])}"
        await conn.execute(
            "SELECT setval($1::regclass, $2, $3)",
            qualified,
            int(seq["last_value"]),
            bool(seq["is_called"]),
        )


async def schema_revision(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> str | None:
    schema = schema_for(tenant_id)
    exists = await conn.fetchval(
        "SELECT to_regclass($1)", f"{quote_ident(schema)}.{quote_ident(VERSION_TABLE)}"
    )
    if exists is None:
        return None
    value = await conn.fetchval(
        f"SELECT version_num FROM {quote_ident(schema)}.{quote_ident(VERSION_TABLE)}"
    )
    return str(value) if value is not None else None


def _copied_rows(status: str) -> int:
    # asyncpg returns the command tag, e.g. "COPY 1234".
    parts = status.split()
    return int(parts[-1]) if parts and parts[-1].isdigit() else 0


async def copy_out(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    table: Table,
    output: Callable[[bytes], Awaitable[None]],
) -> int:
    """Stream one table as COPY binary through ``output``; returns the number of rows."""
    status = await conn.copy_from_table(
        table.name,
        schema_name=schema_for(tenant_id),
        columns=table.column_names,
        output=output,
        format="binary",
    )
    return _copied_rows(status)


async def copy_in(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, table: Table, source: AsyncIterable[bytes]
) -> int:
    """Load one table (truncated in this transaction, hence FREEZE); returns the rows loaded."""
    status = await conn.copy_to_table(
        table.name,
        schema_name=schema_for(tenant_id),
        columns=table.column_names,
        source=source,
        format="binary",
        freeze=True,
    )
    return _copied_rows(status)


async def truncate(conn: asyncpg.Connection, tenant_id: uuid.UUID, tables: list[Table]) -> None:
    schema = quote_ident(schema_for(tenant_id))
    names = ", ".join(f"{schema}.{quote_ident(t.name)}" for t in tables)
    if names:
        await conn.execute(f"TRUNCATE {names}")


async def user_triggers(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, tables: list[Table], *, enabled: bool
) -> None:
    """Switch the tables' own triggers (not the foreign-key checks) on or off, inside the
    caller's transaction: a restore loads every table as it was, derived ones included, so a
    trigger deriving rows while it loads would only write them twice."""
    schema = quote_ident(schema_for(tenant_id))
    verb = "ENABLE" if enabled else "DISABLE"
    for table in tables:
        await conn.execute(f"ALTER TABLE {schema}.{quote_ident(table.name)} {verb} TRIGGER USER")


async def count_rows(conn: asyncpg.Connection, tenant_id: uuid.UUID, table: Table) -> int:
    schema = quote_ident(schema_for(tenant_id))
    return int(await conn.fetchval(f"SELECT count(*) FROM {schema}.{quote_ident(table.name)}"))


def tenant_lock(tenant_id: uuid.UUID) -> int:
    """The key migrations take per tenant: a restore holds it exclusively (no migration, backup
    or other restore of that tenant meanwhile); a backup holds it shared."""
    return migrate.tenant_lock_key(tenant_id)


async def try_lock_shared(conn: asyncpg.Connection, key: int) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock_shared($1)", key))


async def lock_shared(conn: asyncpg.Connection, key: int) -> None:
    await conn.execute("SELECT pg_advisory_lock_shared($1)", key)


async def unlock_shared(conn: asyncpg.Connection, key: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock_shared($1)", key)


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    """Session-level: released by unlock or when the connection (or its process) dies."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))


async def unlock(conn: asyncpg.Connection, key: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", key)


async def try_xact_lock(conn: asyncpg.Connection, key: int) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))


async def server_version(conn: asyncpg.Connection) -> str:
    return str(await conn.fetchval("SHOW server_version"))


async def set_data_key(conn: asyncpg.Connection, tenant_id: uuid.UUID, wrapped: bytes) -> None:
    """In the restore's transaction: give a tenant without a data key the backup's."""
    await conn.execute(
        "UPDATE core.tenants SET data_key_wrapped = $1 WHERE id = $2 AND data_key_wrapped IS NULL",
        wrapped,
        tenant_id,
    )


async def reseal(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    table: str,
    columns: tuple[tuple[str, str, str | None], ...],
    rekey: Callable[[str, bytes], bytes],
    index: Callable[[str, bytes], bytes],
) -> int:
    """Re-encrypt sealed columns for another tenant (``(field, ciphertext col, index col)``)."""
    qualified = f"{quote_ident(schema_for(tenant_id))}.{quote_ident(table)}"
    sealed = [c for _, c, _ in columns]
    rows = await conn.fetch(
        f"SELECT id, {', '.join(quote_ident(c) for c in sealed)} FROM {qualified} "
        f"WHERE {' OR '.join(f'{quote_ident(c)} IS NOT NULL' for c in sealed)}"
    )
    if not rows:
        return 0
    assignments: list[str] = []
    for _field, column, index_column in columns:
        assignments.append(f"{quote_ident(column)} = ${len(assignments) + 2}")
        if index_column is not None:
            assignments.append(f"{quote_ident(index_column)} = ${len(assignments) + 2}")
    updates = []
    for row in rows:
        values: list[Any] = [row["id"]]
        for field_name, column, index_column in columns:
            blob = row[column]
            fresh = rekey(field_name, bytes(blob)) if blob is not None else None
            values.append(fresh)
            if index_column is not None:
                values.append(index(field_name, fresh) if fresh is not None else None)
        updates.append(values)
    await conn.executemany(
        f"UPDATE {qualified} SET {', '.join(assignments)} WHERE id = $1", updates
    )
    return len(updates)
