"""Per-tenant logical backups: one consistent snapshot, streamed with COPY, compressed, catalogued.

**How a backup is taken.** A catalogue row is written first (``queued``), then a worker (or
``crm backup create``) runs it: on a dedicated connection it takes the tenant's advisory lock
*shared* (a restore or a migration of that tenant holds it exclusively, so neither runs while the
snapshot is read), opens one ``REPEATABLE READ READ ONLY`` transaction and streams every table of
the tenant's schema with ``COPY … TO STDOUT (FORMAT binary)`` through zstd into files, parents
before children. Then it uploads them to the storage backend, writes ``manifest.json`` last and
only then marks the row ``succeeded`` with the manifest's checksum. ``pg_dump -n`` is not used: its
start-up reads the whole catalog, so its cost grows with the number of tenant schemas (pitfalls.md;
``bench/backup.py`` measures both).

**Crash safety.** A process killed at any point leaves the row ``queued`` or ``running`` — never
``succeeded`` — and a retry of the same backup starts it again from nothing. A session advisory
lock on the backup's id (held on the dedicated connection, released by PostgreSQL when the process
dies) keeps two deliveries of one message from running it at once, and lets the sweep in
``prune`` tell an abandoned backup from a running one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.backups import repository
from crm_core.backups.archive import TableWriter
from crm_core.backups.models import Backup, BackupStatus
from crm_core.backups.schemas import (
    Manifest,
    ManifestColumn,
    ManifestTable,
    ManifestTenant,
    policy_from,
)
from crm_core.backups.storage import MANIFEST, default_storage, staging_dir, storage_for
from crm_core.db import admin
from crm_core.db import backup_sql as pg
from crm_core.db.engine import Database
from crm_core.errors import NotFound
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Tenant

log = logging.getLogger(__name__)

PERMISSION = "settings:manage"
ERROR_LIMIT = 2000


def backup_lock(backup_id: uuid.UUID) -> int:
    return admin.lock_key("backup", str(backup_id))


# --- The catalogue ----------------------------------------------------------------------------


async def request_backup(
    session: AsyncSession,
    settings: Settings,
    tenant: TenantRef,
    *,
    created_by: uuid.UUID | None,
    trigger: str = "manual",
    idempotency_key: str | None = None,
) -> Backup:
    """Write the catalogue row (``queued``) in the caller's transaction; a worker runs it.

    With an ``idempotency_key`` a second request returns the first one's row.
    """
    backup_id = uuid.uuid4()
    storage = default_storage(settings)
    values = {
        "id": backup_id,
        "tenant_id": tenant.id,
        "tenant_slug": tenant.slug,
        "storage": storage.kind,
        "location": storage.location_for(tenant.id, backup_id),
        "status": BackupStatus.queued,
        "trigger": trigger,
        "idempotency_key": idempotency_key,
        "created_by": created_by,
    }
    stmt = insert(Backup).values(**values)
    if idempotency_key is not None:
        stmt = stmt.on_conflict_do_nothing(
            index_elements=["tenant_id", "idempotency_key"],
            index_where=Backup.idempotency_key.is_not(None),
        )
    await session.execute(stmt)
    found = (
        await repository.get_by_idempotency_key(session, tenant.id, idempotency_key)
        if idempotency_key is not None
        else await repository.get(session, backup_id)
    )
    assert found is not None
    return found


async def list_backups(
    db: Database, tenant_id: uuid.UUID | None, *, limit: int = 50, include_deleted: bool = False
) -> Sequence[Backup]:
    async with db.core_session() as session:
        return await repository.list_for_tenant(
            session, tenant_id, limit=min(max(limit, 1), 500), include_deleted=include_deleted
        )


async def get_backup(db: Database, backup_id: uuid.UUID, *, tenant_id: uuid.UUID | None) -> Backup:
    """A backup by id; with ``tenant_id`` only that tenant's (else: not found, as if missing)."""
    async with db.core_session() as session:
        row = (
            await repository.get_for_tenant(session, tenant_id, backup_id)
            if tenant_id is not None
            else await repository.get(session, backup_id)
        )
    if row is None:
        raise NotFound("id", "backup")
    return row


async def _set(db: Database, backup_id: uuid.UUID, **values: object) -> None:
    async with db.core_transaction() as session:
        await session.execute(update(Backup).where(Backup.id == backup_id).values(**values))


# --- Taking a backup --------------------------------------------------------------------------


@dataclass
class _Snapshot:
    revision: str
    postgres_version: str
    tables: list[ManifestTable]
    sequences: list[dict[str, object]]


async def run_backup(db: Database, settings: Settings, backup_id: uuid.UUID) -> Backup | None:
    """Take the backup a catalogue row asks for. Idempotent: a finished row is returned as it is;
    one being run by another process right now is left to it (returns None)."""
    async with db.core_session() as session:
        row = await repository.get(session, backup_id)
        tenant = await session.get(Tenant, row.tenant_id) if row is not None else None
    if row is None:
        return None
    if row.status not in (BackupStatus.queued, BackupStatus.running):
        return row
    conn = await pg.connect(settings.require_database_url())
    try:
        if not await pg.try_lock(conn, backup_lock(backup_id)):
            log.info("backup %s is being taken by another process", backup_id)
            return None
        storage = storage_for(settings, row.location)
        if row.status is BackupStatus.running:
            # An earlier attempt died part-way: start again from nothing.
            await storage.delete(row.location)
        if tenant is None or tenant.provisioned_at is None:
            await _fail(db, settings, row, "the tenant no longer exists")
            return await get_backup(db, backup_id, tenant_id=None)
        await _set(db, backup_id, status=BackupStatus.running, started_at=func.now(), error=None)
        workdir = staging_dir(settings) / str(backup_id)
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        try:
            snapshot = await _dump(conn, settings, tenant.id, workdir)
            manifest = Manifest(
                backup_id=backup_id,
                created_at=datetime.now(UTC),
                tenant=_manifest_tenant(tenant),
                schema_revision=snapshot.revision,
                postgres_version=snapshot.postgres_version,
                tables=snapshot.tables,
                sequences=snapshot.sequences,
                row_count=sum(t.rows for t in snapshot.tables),
                size_bytes=sum(t.size_bytes for t in snapshot.tables),
            )
            for table in manifest.tables:
                await storage.put_file(row.location, table.file, workdir / table.file)
            body = json.dumps(manifest.model_dump(mode="json"), indent=1).encode()
            await storage.put_bytes(row.location, MANIFEST, body)
        except Exception as exc:
            log.exception("backup %s of tenant %s failed", backup_id, row.tenant_id)
            await _fail(db, settings, row, f"{type(exc).__name__}: {exc}")
            return await get_backup(db, backup_id, tenant_id=None)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        policy = policy_from(tenant.settings or {}, settings.backups)
        now = datetime.now(UTC)
        await _set(
            db,
            backup_id,
            status=BackupStatus.succeeded,
            finished_at=now,
            size_bytes=manifest.size_bytes + len(body),
            tables=len(manifest.tables),
            row_count=manifest.row_count,
            checksum=hashlib.sha256(body).hexdigest(),
            schema_revision=manifest.schema_revision,
            expires_at=now + timedelta(days=policy.keep_days),
        )
        log.info(
            "backup %s of %s: %d tables, %d rows, %d bytes",
            backup_id,
            row.tenant_slug,
            len(manifest.tables),
            manifest.row_count,
            manifest.size_bytes,
        )
        return await get_backup(db, backup_id, tenant_id=None)
    finally:
        await conn.close()  # releases the session locks too


def _manifest_tenant(tenant: Tenant) -> ManifestTenant:
    wrapped = tenant.data_key_wrapped
    return ManifestTenant(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        locale=tenant.locale,
        timezone=tenant.timezone,
        currency=tenant.currency,
        plan=tenant.plan,
        settings=dict(tenant.settings or {}),
        data_key_wrapped=base64.b64encode(wrapped).decode() if wrapped else None,
    )


async def _dump(
    conn: asyncpg.Connection, settings: Settings, tenant_id: uuid.UUID, workdir: Path
) -> _Snapshot:
    level = settings.backups.compression_level
    lock = pg.tenant_lock(tenant_id)
    # Taken before the snapshot's transaction starts, so the snapshot is newer than any restore
    # or migration of this tenant that held the lock.
    await pg.lock_shared(conn, lock)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            revision = await pg.schema_revision(conn, tenant_id)
            if revision is None:
                raise RuntimeError("the tenant's schema has no migration revision")
            tables = await pg.tables_in_dependency_order(conn, tenant_id)
            out: list[ManifestTable] = []
            for index, table in enumerate(tables):
                name = f"{index:03d}-{table.name}.copy.zst"
                writer = TableWriter(workdir / name, level)
                try:
                    rows = await pg.copy_out(conn, tenant_id, table, writer)
                finally:
                    writer.close()
                out.append(
                    ManifestTable(
                        name=table.name,
                        file=name,
                        columns=[ManifestColumn(name=c.name, type=c.type) for c in table.columns],
                        rows=rows,
                        size_bytes=writer.size_bytes,
                        raw_bytes=writer.raw_bytes,
                        sha256=writer.sha256,
                        raw_sha256=writer.raw_sha256,
                    )
                )
            sequences = await pg.sequences(conn, tenant_id)
            version = await pg.server_version(conn)
    finally:
        await pg.unlock_shared(conn, lock)
    return _Snapshot(revision, version, out, sequences)


async def _fail(db: Database, settings: Settings, row: Backup, error: str) -> None:
    """Mark the backup failed and remove what it had written (best effort: a file left behind
    is only litter, never mistaken for a backup, since its row is not ``succeeded``)."""
    try:
        await storage_for(settings, row.location).delete(row.location)
    except Exception:
        log.warning("could not remove the files of failed backup %s", row.id, exc_info=True)
    await _set(
        db, row.id, status=BackupStatus.failed, finished_at=func.now(), error=error[:ERROR_LIMIT]
    )
