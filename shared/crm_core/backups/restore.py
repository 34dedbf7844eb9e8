"""Verifying and restoring backups.

**Verification first.** Before anything is changed the manifest is read and checked against the
checksum in the catalogue, and every table file against the manifest (size and SHA-256); with
``deep`` each file is also decompressed and its COPY stream checked. A corrupted or truncated
backup is refused here, and nothing has been touched.

**Into the same tenant** (``confirm`` must repeat the tenant's slug): one transaction on a
dedicated connection takes the tenant's advisory lock exclusively (the key migrations use; a
backup takes it shared), so no other restore, backup or migration of that tenant runs meanwhile;
it checks the schema is at the backup's revision with the same tables and columns, truncates every
table (their ACCESS EXCLUSIVE locks make the tenant's requests wait), loads each file with
``COPY … FROM STDIN (FORMAT binary, FREEZE)`` parents first, checking each stream's checksum and
each table's row count, and sets the sequences. Any mismatch rolls the whole restore back. The
tenant's settings (funnel, scopes, policies) are configuration, not data, and stay as they are.

**Into a new tenant**: the tenant is provisioned through ``tenants.service.create`` (so at this
code's head revision) with the backup's settings, and loaded the same way. Encrypted columns are
bound to their tenant (key and associated data), so they are decrypted with the backup's wrapped
data key and sealed again with the new tenant's key in the same transaction. If the load fails
the new tenant is dropped again.

**Schema versions.** A backup is restored only into a schema at exactly its revision: the rows
of one revision are not rows of another. A restore into the same tenant after that tenant was
migrated is refused with the two revisions named (restore with the release that took the backup,
before upgrading, or into a new tenant while the revisions still match); a new tenant is created
at this code's head, so it can be seeded only from a backup at head. (Provisioning a scratch tenant
at the backup's revision, loading it, then migrating it to head is the way past this; not built.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from pydantic import ValidationError

from crm_core.backups.archive import CorruptBackup, check_file, check_stream, read_stream
from crm_core.backups.models import Backup, BackupStatus
from crm_core.backups.schemas import FORMAT_VERSION, Manifest
from crm_core.backups.service import get_backup
from crm_core.backups.storage import MANIFEST, StorageError, staging_dir, storage_for
from crm_core.db import admin, migrate
from crm_core.db import backup_sql as pg
from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode
from crm_core.security.crypto import MasterKey, load_master_key
from crm_core.security.tenant_keys import TenantCipher, TenantKeys, cipher_from_wrapped
from crm_core.settings import Settings
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Tenant

log = logging.getLogger(__name__)

# Columns sealed with the tenant's key: table -> (field, ciphertext column, blind-index column).
ENCRYPTED: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "customers": (
        ("tax_id", "tax_id_encrypted", "tax_id_index"),
        ("bank_account", "bank_account_encrypted", None),
    ),
}


# The job and mail machinery's own tables are backed up but not rolled back: restoring them would
# re-send mails already sent (queued rows of the past), revive finished jobs and erase the restore
# job's own row. A restore into the same tenant keeps their current rows, and keeps the current
# opt-outs and bounces too (a restore must never mail someone who has since opted out); a new
# tenant starts with no jobs and no mails queued, but with the backup's opt-outs.
KEEP_ON_RESTORE = frozenset({"jobs", "outbox", "mail_outbox", "mail_suppressions"})
SKIP_INTO_NEW = frozenset({"jobs", "outbox", "mail_outbox"})


def _refuse(field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID) -> DomainError:
    return DomainError.one(field, code, message)


@dataclass
class VerifyReport:
    backup_id: uuid.UUID
    ok: bool
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0


@dataclass
class _Prepared:
    manifest: Manifest
    files: dict[str, Path]
    workdir: Path


async def _read_manifest(settings: Settings, backup: Backup) -> Manifest:
    storage = storage_for(settings, backup.location)
    try:
        body = await storage.get_bytes(backup.location, MANIFEST)
    except StorageError as exc:
        raise CorruptBackup(f"{MANIFEST}: {exc}") from exc
    if hashlib.sha256(body).hexdigest() != backup.checksum:
        raise CorruptBackup(f"{MANIFEST}: checksum mismatch with the catalogue")
    try:
        manifest = Manifest.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise CorruptBackup(f"{MANIFEST}: unreadable ({exc})") from exc
    if manifest.format_version != FORMAT_VERSION or manifest.backup_id != backup.id:
        raise CorruptBackup(f"{MANIFEST}: not this backup's manifest or an unknown format")
    return manifest


async def _prepare(settings: Settings, backup: Backup, *, deep: bool) -> _Prepared:
    """Fetch and check every file; raises ``CorruptBackup`` on the first problem."""
    if backup.status is not BackupStatus.succeeded:
        raise CorruptBackup(f"the backup is {backup.status.value}, not a finished backup")
    manifest = await _read_manifest(settings, backup)
    storage = storage_for(settings, backup.location)
    workdir = staging_dir(settings) / f"restore-{backup.id}-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    files: dict[str, Path] = {}
    try:
        for table in manifest.tables:
            try:
                path = await storage.fetch(backup.location, table.file, workdir)
            except StorageError as exc:
                raise CorruptBackup(f"{table.file}: {exc}") from exc
            await _in_thread(
                check_file, path, name=table.file, sha256=table.sha256, size=table.size_bytes
            )
            if deep:
                await _in_thread(
                    check_stream,
                    path,
                    name=table.file,
                    raw_sha256=table.raw_sha256,
                    raw_bytes=table.raw_bytes,
                )
            files[table.name] = path
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return _Prepared(manifest, files, workdir)


async def _in_thread(fn: Callable[..., None], *args: object, **kwargs: object) -> None:
    import asyncio

    await asyncio.to_thread(fn, *args, **kwargs)


async def verify(
    db: Database,
    settings: Settings,
    backup_id: uuid.UUID,
    *,
    tenant_id: uuid.UUID | None,
    deep: bool = True,
) -> VerifyReport:
    """Check a backup against its catalogue row and manifest; changes nothing."""
    backup = await get_backup(db, backup_id, tenant_id=tenant_id)
    report = VerifyReport(backup.id, ok=False)
    try:
        prepared = await _prepare(settings, backup, deep=deep)
    except CorruptBackup as exc:
        report.problems.append(str(exc))
        return report
    shutil.rmtree(prepared.workdir, ignore_errors=True)
    report.ok = True
    report.tables = len(prepared.manifest.tables)
    report.rows = prepared.manifest.row_count
    return report


@dataclass
class RestoreResult:
    backup_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_slug: str
    tables: int
    rows: int


def _check_tables(manifest: Manifest, current: list[pg.Table]) -> None:
    want = {t.name: [(c.name, c.type) for c in t.columns] for t in manifest.tables}
    have = {t.name: [(c.name, c.type) for c in t.columns] for t in current}
    if want != have:
        differ = sorted(set(want) ^ set(have)) or sorted(n for n in want if want[n] != have.get(n))
        raise _refuse(
            "id",
            f"the tenant's tables differ from the backup's ({', '.join(differ[:5])})",
        )


async def _load(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID,
    prepared: _Prepared,
    *,
    keep: frozenset[str],
    rekey: Callable[[str, bytes], bytes] | None = None,
    index: Callable[[str, bytes], bytes] | None = None,
) -> int:
    """Inside the caller's transaction: replace every table's rows with the backup's (but the
    tables in ``keep``, left as they are)."""
    manifest = prepared.manifest
    revision = await pg.schema_revision(conn, tenant_id)
    if revision != manifest.schema_revision:
        raise _refuse(
            "id",
            f"the backup is at schema revision {manifest.schema_revision} and the tenant at "
            f"{revision}: restore it with the release that took it",
        )
    tables = await pg.tables_in_dependency_order(conn, tenant_id)
    _check_tables(manifest, tables)
    by_name = {t.name: t for t in tables}
    await pg.truncate(conn, tenant_id, [t for t in tables if t.name not in keep])
    # The search vocabulary's triggers would add words while customers load, before the
    # backup's own copy of the vocabulary arrives.
    await pg.user_triggers(conn, tenant_id, tables, enabled=False)
    total = 0
    for entry in manifest.tables:
        if entry.name in keep:
            continue
        table = by_name[entry.name]
        stream = read_stream(
            prepared.files[entry.name], name=entry.file, raw_sha256=entry.raw_sha256
        )
        loaded = await pg.copy_in(conn, tenant_id, table, stream)
        counted = await pg.count_rows(conn, tenant_id, table)
        if loaded != entry.rows or counted != entry.rows:
            raise CorruptBackup(
                f"{entry.name}: {counted} rows loaded, the manifest says {entry.rows}"
            )
        total += counted
    await pg.user_triggers(conn, tenant_id, tables, enabled=True)
    await pg.set_sequences(
        conn, tenant_id, [q for q in manifest.sequences if q.get("owned_by") not in keep]
    )
    if rekey is not None and index is not None:
        for table_name, columns in ENCRYPTED.items():
            if table_name in by_name:
                await pg.reseal(conn, tenant_id, table_name, columns, rekey, index)
    return total


async def restore_into_tenant(
    db: Database,
    settings: Settings,
    backup_id: uuid.UUID,
    *,
    confirm: str,
    tenant_id: uuid.UUID | None,
) -> RestoreResult:
    """Replace the backup's own tenant's data with the backup. ``tenant_id`` (the caller's
    tenant, None for operators) scopes the look-up: another tenant's backup is not found."""
    backup = await get_backup(db, backup_id, tenant_id=tenant_id)
    async with db.core_session() as session:
        tenant = await session.get(Tenant, backup.tenant_id)
    if tenant is None or tenant.provisioned_at is None:
        raise _refuse("id", "the backup's tenant no longer exists: restore it into a new tenant")
    if confirm != tenant.slug:
        raise _refuse("confirm", "type the company's slug to confirm the restore")
    try:
        prepared = await _prepare(settings, backup, deep=False)
    except CorruptBackup as exc:
        raise _refuse("id", f"the backup is damaged and was not restored: {exc}") from exc
    try:
        wrapped = prepared.manifest.tenant.data_key_wrapped
        if (
            wrapped
            and tenant.data_key_wrapped
            and base64.b64decode(wrapped) != tenant.data_key_wrapped
        ):
            raise _refuse("id", "the backup was sealed with another data key than the tenant's")
        conn = await pg.connect(settings.require_database_url(), application_name="crm-restore")
        try:
            async with conn.transaction():
                if not await pg.try_xact_lock(conn, pg.tenant_lock(tenant.id)):
                    raise _refuse(
                        "id",
                        "a backup, restore or migration of this company is running; try later",
                        ErrorCode.CONFLICT,
                    )
                rows = await _load(conn, tenant.id, prepared, keep=KEEP_ON_RESTORE)
                if wrapped and tenant.data_key_wrapped is None:
                    await pg.set_data_key(conn, tenant.id, base64.b64decode(wrapped))
        except CorruptBackup as exc:
            raise _refuse("id", f"the backup is damaged and was not restored: {exc}") from exc
        finally:
            await conn.close()
    finally:
        shutil.rmtree(prepared.workdir, ignore_errors=True)
    log.warning("restored backup %s into tenant %s (%d rows)", backup.id, tenant.slug, rows)
    return RestoreResult(backup.id, tenant.id, tenant.slug, len(prepared.manifest.tables), rows)


async def restore_into_new_tenant(
    db: Database, settings: Settings, backup_id: uuid.UUID, *, slug: str, name: str | None = None
) -> RestoreResult:
    """Provision a new tenant from the backup (operators: any tenant's backup)."""
    backup = await get_backup(db, backup_id, tenant_id=None)
    slug = tenants.validate_slug(slug)
    async with db.core_session() as session:
        taken = await session.scalar(Tenant.__table__.select().where(Tenant.slug == slug))
    if taken is not None:
        raise _refuse("slug", "a company with this slug exists", ErrorCode.DUPLICATE)
    try:
        prepared = await _prepare(settings, backup, deep=False)
    except CorruptBackup as exc:
        raise _refuse("id", f"the backup is damaged and was not restored: {exc}") from exc
    try:
        manifest = prepared.manifest
        head = migrate.head_of("tenant")
        if manifest.schema_revision != head:
            raise _refuse(
                "id",
                f"the backup is at schema revision {manifest.schema_revision}; new companies "
                f"are created at {head}",
            )
        source = manifest.tenant
        master = load_master_key(settings)
        old = _source_cipher(master, source.id, source.data_key_wrapped)
        tenant, _ = await tenants.create(
            db,
            tenants.TenantInput(
                slug=slug,
                name=name or source.name,
                plan=source.plan,
                locale=source.locale,
                timezone=source.timezone,
                currency=source.currency,
            ),
        )
        try:
            async with db.core_transaction() as session:
                row = await session.get(Tenant, tenant.id)
                assert row is not None
                row.settings = dict(source.settings)
            new = await TenantKeys(master).cipher(db, tenant.id)
            rows = await _load_new(settings, tenant.id, prepared, old, new)
        except BaseException:
            await _drop_tenant(db, tenant.id)
            raise
    finally:
        shutil.rmtree(prepared.workdir, ignore_errors=True)
    log.warning("restored backup %s into new tenant %s (%d rows)", backup.id, slug, rows)
    return RestoreResult(backup.id, tenant.id, tenant.slug, len(manifest.tables), rows)


async def _load_new(
    settings: Settings,
    tenant_id: uuid.UUID,
    prepared: _Prepared,
    old: TenantCipher | None,
    new: TenantCipher,
) -> int:
    def rekey(field_name: str, blob: bytes) -> bytes:
        if old is None:
            raise CorruptBackup("the backup holds encrypted values but no data key")
        return new.encrypt(old.decrypt(blob, field=field_name), field=field_name)

    def index(field_name: str, blob: bytes) -> bytes:
        return new.blind_index(new.decrypt(blob, field=field_name), field=field_name)

    conn = await pg.connect(settings.require_database_url(), application_name="crm-restore")
    try:
        async with conn.transaction():
            await pg.try_xact_lock(conn, pg.tenant_lock(tenant_id))
            return await _load(
                conn, tenant_id, prepared, keep=SKIP_INTO_NEW, rekey=rekey, index=index
            )
    except CorruptBackup as exc:
        raise _refuse("id", f"the backup is damaged and was not restored: {exc}") from exc
    finally:
        await conn.close()


def _source_cipher(
    master: MasterKey, tenant_id: uuid.UUID, wrapped: str | None
) -> TenantCipher | None:
    if wrapped is None:
        return None
    return cipher_from_wrapped(master, tenant_id, base64.b64decode(wrapped))


async def _drop_tenant(db: Database, tenant_id: uuid.UUID) -> None:
    await admin.drop_tenant_schema(db.engine, tenant_id)
    async with db.core_transaction() as session:
        row = await session.get(Tenant, tenant_id)
        if row is not None:
            await session.delete(row)
