"""Migrations: a migrated tenant schema matches the models; upgrades skip tenants at head,
run in parallel and report failures per tenant."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from crm_core.db import admin, migrate
from crm_core.tenancy import schema_for


async def test_migrated_tenant_schema_matches_models(db, tenant_a) -> None:
    schema = schema_for(tenant_a.ref.id)

    def diff(connection):
        connection.execute(text(f'SET LOCAL search_path TO "{schema}", public'))
        ctx = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, kind, *_: (
                    not (kind == "table" and name == "alembic_version")
                ),
            },
        )
        return compare_metadata(ctx, migrate.tenant_metadata())

    async with db.engine.begin() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_core_schema_matches_models(db) -> None:
    def diff(connection):
        ctx = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_schemas": True,
                "include_name": lambda name, kind, *_: kind != "schema" or name == "core",
                "include_object": lambda obj, name, kind, *_: (
                    not (kind == "table" and name == "alembic_version")
                ),
            },
        )
        return compare_metadata(ctx, migrate.core_metadata())

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_upgrade_skips_tenants_at_head_and_reports_failures(db, tenant_a, tenant_b) -> None:
    outcomes = await migrate.upgrade_tenants(db.engine, [tenant_a.ref.id, tenant_b.ref.id])
    assert {o.status for o in outcomes} == {"at_head"}
    # A tenant whose schema is broken (its version table says head but a table was dropped is fine
    # for "at head"); one whose version table names an unknown revision must fail alone.
    broken = uuid.uuid4()
    await migrate.upgrade_tenant(db.engine, broken)
    async with db.engine.begin() as conn:
        await conn.execute(
            text(f'UPDATE "{schema_for(broken)}".alembic_version SET version_num = :v'),
            {"v": "nope"},
        )
    outcomes = await migrate.upgrade_tenants(
        db.engine, [tenant_a.ref.id, broken, tenant_b.ref.id], concurrency=2
    )
    by_id = {o.tenant_id: o for o in outcomes}
    assert by_id[broken].status == "failed" and "nope" in (by_id[broken].error or "")
    assert by_id[tenant_a.ref.id].status == "at_head" and by_id[tenant_b.ref.id].status == "at_head"
    await admin.drop_tenant_schema(db.engine, broken)


async def test_revisions_are_reported_per_tenant(db, tenant_a) -> None:
    missing = uuid.uuid4()
    revisions = await migrate.tenant_revisions(db.engine, [tenant_a.ref.id, missing])
    assert revisions == {tenant_a.ref.id: migrate.head_of("tenant"), missing: None}


async def test_parallel_upgrade_of_many_tenants(db) -> None:
    """Alembic's globals forbid two migrations in one process: parallel batches use processes."""
    ids = [uuid.uuid4() for _ in range(5)]
    outcomes = await migrate.upgrade_tenants(db.engine, ids, concurrency=3)
    assert [o.status for o in outcomes] == ["upgraded"] * 5, [o.error for o in outcomes]
    again = await migrate.upgrade_tenants(db.engine, ids, concurrency=3)
    assert {o.status for o in again} == {"at_head"}
    for tenant_id in ids:
        await admin.drop_tenant_schema(db.engine, tenant_id)
