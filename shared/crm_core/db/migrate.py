"""Running the two Alembic trees: core once, then every tenant schema in parallel batches.

Each tenant is migrated in its own transaction under an advisory lock keyed on its id, so two
processes (two ``crm db upgrade``, or an upgrade racing ``crm tenant create``) never migrate the
same schema at once, and a failure leaves that tenant exactly at its previous revision.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from crm_core.tenancy import schema_for

_HERE = Path(__file__).parent / "migrations"
CORE_LOCK = 0x43524D_0001  # "CRM" + 1: serialises core migrations across processes


def core_metadata() -> MetaData:
    from crm_core.db.models import load_core_models

    return load_core_models()


def tenant_metadata() -> MetaData:
    from crm_core.db.models import load_tenant_models

    return load_tenant_models()


def _config(tree: str, connection: Connection, schema: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / tree))
    cfg.attributes["connection"] = connection
    if schema is not None:
        cfg.attributes["schema"] = schema
    return cfg


def head_of(tree: str) -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / tree))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None, f"no migrations in {tree}"
    return head


def tenant_lock_key(tenant_id: uuid.UUID) -> int:
    # Signed 64-bit key from the id: advisory locks take a bigint.
    return int.from_bytes(tenant_id.bytes[:8], "big", signed=True)


def _current_revision(connection: Connection, schema: str) -> str | None:
    ctx = MigrationContext.configure(connection, opts={"version_table_schema": schema})
    return ctx.get_current_revision()


def _upgrade_core_sync(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CORE_LOCK})
    command.upgrade(_config("core", connection), "head")


def _upgrade_tenant_sync(connection: Connection, tenant_id: uuid.UUID, head: str) -> bool:
    schema = schema_for(tenant_id)
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": tenant_lock_key(tenant_id)})
    exists = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
    ).scalar()
    if exists and _current_revision(connection, schema) == head:
        return False
    command.upgrade(_config("tenant", connection, schema), "head")
    return True


async def upgrade_core(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_core_sync)


async def upgrade_tenant(engine: AsyncEngine, tenant_id: uuid.UUID) -> bool:
    """Bring one tenant schema to head (creating it if needed). True if anything ran."""
    head = head_of("tenant")
    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade_tenant_sync, tenant_id, head)


@dataclass(frozen=True, slots=True)
class TenantOutcome:
    tenant_id: uuid.UUID
    status: str  # "upgraded" | "at_head" | "failed"
    error: str | None = None
    seconds: float = 0.0


async def upgrade_tenants(
    engine: AsyncEngine, tenant_ids: Sequence[uuid.UUID], *, concurrency: int = 4
) -> list[TenantOutcome]:
    """Migrate many tenants; one failure does not stop the others.

    Alembic keeps its ``context`` and ``op`` in module globals, so two migrations can never run
    at once in one process. Parallel batches therefore run in ``concurrency`` worker processes,
    each with its own synchronous connection; ``concurrency=1`` runs here, one after another.
    """
    # Most upgrades find most tenants at head: read every revision here first (cheap), and start
    # worker processes only for the tenants that need work.
    head = head_of("tenant")
    revisions = await tenant_revisions(engine, tenant_ids)
    done = {t: TenantOutcome(t, "at_head") for t, rev in revisions.items() if rev == head}
    ids = [t for t in tenant_ids if t not in done]
    if concurrency <= 1 or len(ids) <= 1:
        done.update({t: await _outcome(engine, t) for t in ids})
        return [done[t] for t in tenant_ids]
    url = sync_url(engine)
    batches = [ids[i::concurrency] for i in range(concurrency) if ids[i::concurrency]]
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")  # never fork a process with threads and a loop
    with ProcessPoolExecutor(max_workers=len(batches), mp_context=spawn) as pool:
        results = await asyncio.gather(
            *(loop.run_in_executor(pool, _upgrade_batch, url, batch) for batch in batches)
        )
    done.update({o.tenant_id: o for batch in results for o in batch})
    return [done[t] for t in tenant_ids]


async def _outcome(engine: AsyncEngine, tenant_id: uuid.UUID) -> TenantOutcome:
    started = time.perf_counter()
    try:
        ran = await upgrade_tenant(engine, tenant_id)
    except Exception as exc:
        return TenantOutcome(
            tenant_id, "failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - started
        )
    return TenantOutcome(
        tenant_id, "upgraded" if ran else "at_head", None, time.perf_counter() - started
    )


def sync_url(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _upgrade_batch(url: str, tenant_ids: list[uuid.UUID]) -> list[TenantOutcome]:
    """Runs in a worker process: one connection per tenant, one transaction each."""
    engine = create_engine(url, poolclass=NullPool)
    head = head_of("tenant")
    out = []
    try:
        for tenant_id in tenant_ids:
            started = time.perf_counter()
            try:
                with engine.begin() as conn:
                    ran = _upgrade_tenant_sync(conn, tenant_id, head)
                status, error = ("upgraded" if ran else "at_head"), None
            except Exception as exc:
                status, error = "failed", f"{type(exc).__name__}: {exc}"
            out.append(TenantOutcome(tenant_id, status, error, time.perf_counter() - started))
    finally:
        engine.dispose()
    return out


async def tenant_revisions(
    engine: AsyncEngine, tenant_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """Each tenant's current revision (None when its schema or version table is missing)."""

    def read(connection: Connection) -> dict[uuid.UUID, str | None]:
        found: dict[uuid.UUID, str | None] = {}
        for tenant_id in tenant_ids:
            schema = schema_for(tenant_id)
            exists = connection.execute(
                text("SELECT to_regclass(:t)"), {"t": f'"{schema}".alembic_version'}
            ).scalar()
            found[tenant_id] = _current_revision(connection, schema) if exists else None
        return found

    async with engine.connect() as conn:
        return await conn.run_sync(read)


def _autogenerate_sync(connection: Connection, tree: str, message: str, schema: str | None) -> None:
    command.revision(_config(tree, connection, schema), message=message, autogenerate=True)


async def autogenerate(engine: AsyncEngine, tree: str, message: str) -> None:
    """Developer tool (``crm db revision``): diff the models against a migrated scratch schema."""
    schema = schema_for(uuid.UUID(int=0)) if tree == "tenant" else None
    async with engine.begin() as conn:
        if tree == "tenant":
            await conn.run_sync(_upgrade_tenant_sync, uuid.UUID(int=0), "")
        await conn.run_sync(_autogenerate_sync, tree, message, schema)
        await conn.rollback()


# --- Read-only: which schemas are behind (readiness probes, ``crm db status``) -------------------

_REVISION_CHUNK = 500  # tenant version tables read per UNION ALL statement


@functools.cache
def known_revisions(tree: str) -> frozenset[str]:
    """Every revision this code's tree knows: a revision outside it is *ahead* (newer code)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / tree))
    return frozenset(s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions())


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    core_revision: str | None
    core_head: str
    tenant_head: str
    tenants_checked: int
    behind: dict[uuid.UUID, str | None]  # tenant -> its revision (None: no version table)
    ahead: dict[uuid.UUID, str]  # migrated by newer code than this process: not an error

    @property
    def core_ok(self) -> bool:
        rev = self.core_revision
        return rev == self.core_head or (rev is not None and rev not in known_revisions("core"))

    @property
    def ok(self) -> bool:
        return self.core_ok and not self.behind

    def as_json(self, limit: int = 50) -> dict[str, object]:
        """A probe's view: the first ``limit`` tenants behind, and how many there are."""
        behind = sorted(self.behind.items(), key=lambda kv: str(kv[0]))
        return {
            "ok": self.ok,
            "core": {"ok": self.core_ok, "revision": self.core_revision, "head": self.core_head},
            "tenants": {
                "ok": not self.behind,
                "head": self.tenant_head,
                "checked": self.tenants_checked,
                "behind_count": len(self.behind),
                "behind": [{"tenant_id": str(t), "revision": rev} for t, rev in behind[:limit]],
                "ahead_count": len(self.ahead),
            },
        }


def _migration_status_sync(connection: Connection) -> MigrationStatus:
    core_head, tenant_head = head_of("core"), head_of("tenant")
    core_table = connection.execute(text("SELECT to_regclass('core.alembic_version')")).scalar()
    core_rev = _current_revision(connection, "core") if core_table else None
    ids: list[uuid.UUID] = []
    if core_table and connection.execute(text("SELECT to_regclass('core.tenants')")).scalar():
        ids = list(
            connection.execute(
                text("SELECT id FROM core.tenants WHERE provisioned_at IS NOT NULL ORDER BY id")
            ).scalars()
        )
    # Which tenant schemas have a version table, in one catalog query.
    with_table = set(
        connection.execute(
            text(
                "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = 'alembic_version' AND n.nspname LIKE 'tenant\\_%'"
            )
        ).scalars()
    )
    revisions: dict[uuid.UUID, str | None] = {t: None for t in ids}
    readable = [t for t in ids if schema_for(t) in with_table]
    for start in range(0, len(readable), _REVISION_CHUNK):
        chunk = readable[start : start + _REVISION_CHUNK]
        # Schema names come from schema_for() (validated UUID hex), never from input.
        sql = " UNION ALL ".join(
            f"SELECT '{t}' AS tenant_id, version_num FROM \"{schema_for(t)}\".alembic_version"
            for t in chunk
        )
        for tenant_id, rev in connection.execute(text(sql)):
            revisions[uuid.UUID(tenant_id)] = rev
    known = known_revisions("tenant")
    behind: dict[uuid.UUID, str | None] = {}
    ahead: dict[uuid.UUID, str] = {}
    for tenant_id, rev in revisions.items():
        if rev == tenant_head:
            continue
        if rev is not None and rev not in known:
            ahead[tenant_id] = rev
        else:
            behind[tenant_id] = rev
    return MigrationStatus(core_rev, core_head, tenant_head, len(ids), behind, ahead)


async def migration_status(engine: AsyncEngine) -> MigrationStatus:
    """Core's revision and every provisioned tenant that is not at this code's head. Read-only."""
    async with engine.connect() as conn:
        return await conn.run_sync(_migration_status_sync)
