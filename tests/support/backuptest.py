"""Helpers of the backup tests: a fingerprint of every table of a tenant, taking a backup."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import zstandard

from crm_core.backups import service
from crm_core.backups.models import BackupStatus
from crm_core.db.backup_sql import dsn_of
from crm_core.db.engine import Database
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef, schema_for

SEALED = {"customers": ("tax_id_encrypted", "tax_id_index", "bank_account_encrypted")}


async def fingerprint(settings: Settings, tenant_id: uuid.UUID, *, skip=None) -> dict[str, tuple]:
    """Row count and an md5 of every row's text of every table of the tenant, and sequences."""
    skip = skip or {}
    conn = await asyncpg.connect(dsn_of(settings.require_database_url()))
    try:
        schema = schema_for(tenant_id)
        out: dict[str, tuple] = {}
        tables = await conn.fetch(
            "SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind IN ('r', 'S') ORDER BY 1",
            schema,
        )
        for name, kind in tables:
            if kind == "S":
                out[f"seq:{name}"] = tuple(
                    await conn.fetchrow(f'SELECT last_value, is_called FROM "{schema}"."{name}"')
                )
                continue
            cols = [
                r[0]
                for r in await conn.fetch(
                    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                    "AND NOT attisdropped ORDER BY attnum",
                    f'"{schema}"."{name}"',
                )
                if r[0] not in skip.get(name, ())
            ]
            row_expr = "ROW(" + ", ".join(f't."{c}"' for c in cols) + ")::text"
            out[name] = tuple(
                await conn.fetchrow(
                    f"SELECT count(*), md5(coalesce(string_agg({row_expr}, E'\\n' ORDER BY {row_expr}), '')) "
                    f'FROM "{schema}"."{name}" t'
                )
            )
        return out
    finally:
        await conn.close()


def unzstd(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()


def local_dir(location: str) -> Path:
    return Path(urlparse(location).path)


async def take_backup(db: Database, settings: Settings, tenant: TenantRef):
    async with db.core_transaction() as session:
        row = await service.request_backup(session, settings, tenant, created_by=None)
    done = await service.run_backup(db, settings, row.id)
    assert done is not None and done.status is BackupStatus.succeeded, done and done.error
    return done
