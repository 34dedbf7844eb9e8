"""Backups and restores on the real PostgreSQL: exact reproduction, refusal of damaged backups,
restore into a new tenant, retention, and two-tenant isolation."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import asyncpg
import pytest
import zstandard
from backuptest import SEALED, fingerprint, local_dir, take_backup, unzstd
from crmtest import make_tenant

from crm_core.backups import restore, retention, service
from crm_core.backups.models import BackupStatus
from crm_core.backups.restore import KEEP_ON_RESTORE, SKIP_INTO_NEW
from crm_core.backups.schemas import BackupPolicy
from crm_core.customers import repository as customers_repo
from crm_core.customers import service as customers
from crm_core.db.backup_sql import dsn_of
from crm_core.errors import DomainError
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantKeys
from crm_core.tenancy import TenantRef, schema_for


def kept(name: str, tables: frozenset[str] = KEEP_ON_RESTORE) -> bool:
    """A table a restore leaves as it is, or the sequence of its id column."""
    bare = name.removeprefix("seq:")
    return bare in tables or (
        any(bare.startswith(f"{t}_") for t in tables) and bare.endswith("_seq")
    )


async def test_restore_reproduces_every_table_exactly(db, settings, demo) -> None:
    before = await fingerprint(settings, demo.ref.id)
    populated = [t for t, v in before.items() if not t.startswith("seq:") and v[0] > 0]
    assert len(populated) >= 10, populated  # realistic data across many entities
    backup = await take_backup(db, settings, demo.ref)
    manifest = json.loads((local_dir(backup.location) / "manifest.json").read_text())
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == {
        t: v[0] for t, v in before.items() if not t.startswith("seq:") and t != "alembic_version"
    }

    # Change the tenant after the backup: a new customer, an edited one, a deleted one.
    async with unit_of_work(db.tenant(demo.ref), NullDispatcher()) as session:
        await customers.create(
            session, demo.admin, {"code": "BK-AFTER", "name": "Afterwards Ltd", "kind": "company"}
        )
    assert await fingerprint(settings, demo.ref.id) != before

    with pytest.raises(DomainError) as refused:
        await restore.restore_into_tenant(
            db, settings, backup.id, confirm="not-the-slug", tenant_id=demo.ref.id
        )
    assert refused.value.errors[0].field == "confirm"

    just_before = await fingerprint(settings, demo.ref.id)
    result = await restore.restore_into_tenant(
        db, settings, backup.id, confirm=demo.ref.slug, tenant_id=demo.ref.id
    )
    assert 0 < result.rows <= backup.row_count
    after = await fingerprint(settings, demo.ref.id)
    # Every table is as it was at the backup, but the job and mail machinery's, left as they were.
    assert {t: v for t, v in after.items() if not kept(t)} == {
        t: v for t, v in before.items() if not kept(t)
    }
    assert {t: v for t, v in after.items() if kept(t)} == {
        t: v for t, v in just_before.items() if kept(t)
    }
    # The sealed identifiers still decrypt and the blind index still finds them.
    async with db.tenant(demo.ref).read() as session:
        found = await customers_repo.get(session, demo.sealed_id)
    assert found.tax_id_encrypted is not None
    cipher = await demo.keys.cipher(db, demo.ref.id)
    assert cipher.decrypt(found.tax_id_encrypted, field="tax_id") == "91310000MA1FL0XX1A"


@pytest.mark.parametrize("damage", ["flip", "truncate", "manifest", "missing"])
async def test_damaged_backup_is_refused_and_changes_nothing(db, settings, demo, damage) -> None:
    backup = await take_backup(db, settings, demo.ref)
    async with unit_of_work(db.tenant(demo.ref), NullDispatcher()) as session:
        await customers.create(
            session,
            demo.admin,
            {"code": f"BK-LATER-{damage}", "name": f"Later {damage}", "kind": "company"},
        )
    now = await fingerprint(settings, demo.ref.id)
    folder = local_dir(backup.location)
    files = sorted(folder.glob("*-customers.copy.zst"))
    assert files
    if damage == "flip":
        data = bytearray(files[0].read_bytes())
        data[len(data) // 2] ^= 0xFF
        files[0].write_bytes(bytes(data))
    elif damage == "truncate":
        data = files[0].read_bytes()
        files[0].write_bytes(data[: len(data) - 7])
    elif damage == "manifest":
        manifest = folder / "manifest.json"
        manifest.write_text(manifest.read_text().replace('"rows": ', '"rows": 1', 1))
    else:
        files[0].unlink()

    report = await restore.verify(db, settings, backup.id, tenant_id=demo.ref.id)
    assert not report.ok and report.problems
    with pytest.raises(DomainError) as refused:
        await restore.restore_into_tenant(
            db, settings, backup.id, confirm=demo.ref.slug, tenant_id=demo.ref.id
        )
    assert "damaged" in refused.value.errors[0].message
    assert await fingerprint(settings, demo.ref.id) == now


async def test_corruption_that_passes_the_file_check_still_rolls_back(db, settings, demo) -> None:
    """The COPY stream is checked again while loading, inside the restore's transaction."""
    backup = await take_backup(db, settings, demo.ref)
    now = await fingerprint(settings, demo.ref.id)
    folder = local_dir(backup.location)
    target = sorted(folder.glob("*-customers.copy.zst"))[0]
    raw = bytearray(unzstd(target.read_bytes()))
    raw[-40] ^= 0x01  # one bit inside the last row
    original = target.read_bytes()
    tampered = zstandard.ZstdCompressor().compress(bytes(raw))
    from crm_core.backups import archive

    real_check = archive.check_file
    try:
        target.write_bytes(tampered)
        restore.check_file = lambda *a, **k: None  # the up-front check is bypassed on purpose
        with pytest.raises(DomainError):
            await restore.restore_into_tenant(
                db, settings, backup.id, confirm=demo.ref.slug, tenant_id=demo.ref.id
            )
    finally:
        restore.check_file = real_check
        target.write_bytes(original)
    assert await fingerprint(settings, demo.ref.id) == now


async def test_restore_into_a_new_tenant(db, settings, demo) -> None:
    backup = await take_backup(db, settings, demo.ref)
    before = await fingerprint(settings, demo.ref.id, skip=SEALED)
    with pytest.raises(DomainError) as taken:
        await restore.restore_into_new_tenant(db, settings, backup.id, slug=demo.ref.slug)
    assert taken.value.errors[0].field == "slug"

    result = await restore.restore_into_new_tenant(db, settings, backup.id, slug="bk-copy")
    assert result.tenant_id != demo.ref.id
    copied = await fingerprint(settings, result.tenant_id, skip=SEALED)
    assert {t: v for t, v in copied.items() if not kept(t, SKIP_INTO_NEW)} == {
        t: v for t, v in before.items() if not kept(t, SKIP_INTO_NEW)
    }
    # Sealed values were re-keyed for the new tenant: they decrypt there, and the tax-id look-up
    # by blind index finds the customer.
    copy = TenantRef(id=result.tenant_id, slug="bk-copy")
    cipher = await TenantKeys(load_master_key(settings)).cipher(db, copy.id)
    async with db.tenant(copy).read() as session:
        found = await customers_repo.get(session, demo.sealed_id)
    assert cipher.decrypt(found.tax_id_encrypted, field="tax_id") == "91310000MA1FL0XX1A"
    assert found.tax_id_index == cipher.blind_index("91310000MA1FL0XX1A", field="tax_id")
    assert cipher.decrypt(found.bank_account_encrypted, field="bank_account") == "6222000011112222"


async def test_schema_revision_mismatch_is_refused(db, settings, demo) -> None:
    backup = await take_backup(db, settings, demo.ref)
    schema = schema_for(demo.ref.id)
    conn = await asyncpg.connect(dsn_of(settings.require_database_url()))
    try:
        head = await conn.fetchval(f'SELECT version_num FROM "{schema}".alembic_version')
        await conn.execute(f"UPDATE \"{schema}\".alembic_version SET version_num = 'older'")
        now = await fingerprint(settings, demo.ref.id)
        with pytest.raises(DomainError) as refused:
            await restore.restore_into_tenant(
                db, settings, backup.id, confirm=demo.ref.slug, tenant_id=demo.ref.id
            )
        assert "revision" in refused.value.errors[0].message
        assert await fingerprint(settings, demo.ref.id) == now
    finally:
        await conn.execute(f'UPDATE "{schema}".alembic_version SET version_num = $1', head)
        await conn.close()


async def test_restore_is_exclusive_per_tenant(db, settings, demo) -> None:
    backup = await take_backup(db, settings, demo.ref)
    from crm_core.db import backup_sql

    holder = await backup_sql.connect(settings.require_database_url())
    try:
        assert await backup_sql.try_lock(holder, backup_sql.tenant_lock(demo.ref.id))
        with pytest.raises(DomainError) as busy:
            await restore.restore_into_tenant(
                db, settings, backup.id, confirm=demo.ref.slug, tenant_id=demo.ref.id
            )
        assert busy.value.errors[0].code.value == "CONFLICT"
    finally:
        await holder.close()


async def test_backup_holds_only_its_tenant_and_lookups_are_scoped(db, settings, demo) -> None:
    other = await make_tenant(db, "bk-other")
    async with unit_of_work(db.tenant(other.ref), NullDispatcher()) as session:
        await customers.create(
            session,
            other.admin,
            {"code": "BK-OTHER", "name": "OTHER-TENANT-ONLY", "kind": "company"},
        )
    mine = await take_backup(db, settings, demo.ref)
    theirs = await take_backup(db, settings, other.ref)
    mine_blob = b"".join(unzstd(p.read_bytes()) for p in local_dir(mine.location).glob("*.zst"))
    assert b"OTHER-TENANT-ONLY" not in mine_blob and "备份测试".encode() in mine_blob
    counts = await fingerprint(settings, other.ref.id)
    assert theirs.row_count == sum(
        v[0] for t, v in counts.items() if not t.startswith("seq:") and t != "alembic_version"
    )

    ids = {b.id for b in await service.list_backups(db, other.ref.id)}
    assert theirs.id in ids and mine.id not in ids
    with pytest.raises(DomainError):
        await service.get_backup(db, mine.id, tenant_id=other.ref.id)
    with pytest.raises(DomainError):
        await restore.verify(db, settings, mine.id, tenant_id=other.ref.id)
    with pytest.raises(DomainError):
        await restore.restore_into_tenant(
            db, settings, mine.id, confirm=other.ref.slug, tenant_id=other.ref.id
        )


def test_retention_keeps_daily_and_recent() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    rows = [
        SimpleNamespace(id=uuid.UUID(int=i), created_at=now - timedelta(hours=12 * i))
        for i in range(10)
    ]  # two a day over five days
    keep = retention.to_keep(rows, BackupPolicy(keep_daily=3, keep_days=0), now)
    # newest of each of the three most recent days
    assert keep == {uuid.UUID(int=0), uuid.UUID(int=2), uuid.UUID(int=4)}
    keep = retention.to_keep(rows, BackupPolicy(keep_daily=0, keep_days=2), now)
    assert keep == {uuid.UUID(int=i) for i in range(5)}
    assert retention.to_keep(rows, BackupPolicy(keep_daily=0, keep_days=0), now) == {
        uuid.UUID(int=0)
    }


async def test_prune_deletes_files_and_marks_rows(db, settings, demo) -> None:
    from crm_core.tenants.models import Tenant

    async with db.core_transaction() as session:
        row = await session.get(Tenant, demo.ref.id)
        row.settings = {**row.settings, "backup": {"keep_daily": 0, "keep_days": 0}}
    try:
        last = await take_backup(db, settings, demo.ref)
        done = await retention.prune(db, settings, demo.ref.id)
        assert done.deleted and last.id not in done.deleted
        for backup_id in done.deleted:
            gone = await service.get_backup(db, backup_id, tenant_id=demo.ref.id)
            assert gone.status is BackupStatus.deleted
            assert not local_dir(gone.location).exists()
        assert local_dir(last.location).exists()
    finally:
        async with db.core_transaction() as session:
            row = await session.get(Tenant, demo.ref.id)
            row.settings = {k: v for k, v in row.settings.items() if k != "backup"}


async def test_scheduled_backup_is_once_per_period(db, settings, demo) -> None:
    first = await retention.scheduled_backup(db, settings, demo.ref, key="424242")
    again = await retention.scheduled_backup(db, settings, demo.ref, key="424242")
    assert first is not None and again is not None
    assert first.id == again.id and again.status is BackupStatus.succeeded
    assert first.trigger == "scheduled"
    shutil.rmtree(local_dir(first.location), ignore_errors=True)


async def test_restore_keeps_the_job_and_mail_machinery_as_it_is(db, settings, demo) -> None:
    """Jobs and queued mails are not rolled back (no old mail re-sent, the restore job's own row
    survives); everything else is."""
    from crm_core.backups import requests
    from crm_core.jobs.models import Job

    backup = await take_backup(db, settings, demo.ref)
    async with unit_of_work(db.tenant(demo.ref), NullDispatcher()) as session:
        asked = await requests.create(session, settings, demo.admin)
    await restore.restore_into_tenant(
        db, settings, backup.id, confirm=demo.ref.slug, tenant_id=demo.ref.id
    )
    async with db.tenant(demo.ref).read() as session:
        assert await session.get(Job, asked.job.id) is not None
