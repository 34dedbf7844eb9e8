"""``crm``: the one command-line entry.

Long-running commands (``gateway``, ``worker``, ``scheduler``) import their process's package by
name at run time, so the domain package never imports the API or the worker.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from crm_core.cli import up as up_cmd
from crm_core.cli.backup import backup_app
from crm_core.cli.dedup import dedup_app
from crm_core.cli.imports import import_file
from crm_core.cli.jobs import jobs_app
from crm_core.db import migrate
from crm_core.db.engine import Database
from crm_core.errors import DomainError
from crm_core.settings import Settings, load_settings
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Role, TenantStatus

app = typer.Typer(
    help="Multi-tenant CRM: gateway, workers, database and tenants.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenant lifecycle.", no_args_is_help=True)
user_app = typer.Typer(help="Users and memberships.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
keys_app = typer.Typer(help="Access-token signing keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")
app.add_typer(backup_app, name="backup")
app.add_typer(dedup_app, name="dedup")
app.command("up", help="Start everything (embedded servers when no URLs are set).")(up_cmd.up)
app.command("import", help="Import a CSV/XLSX file into one tenant; prints the report's path.")(
    import_file
)

T = TypeVar("T")


def _with_db(fn: Callable[[Database], Awaitable[T]], settings: Settings | None = None) -> T:
    settings = settings or load_settings()

    async def main() -> T:
        db = Database.create(settings)
        try:
            return await fn(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        for e in exc.errors:
            typer.secho(f"error: {e.field or '-'}: {e.message}", fg="red", err=True)
        raise typer.Exit(2) from None


@app.command(help="Run the GraphQL gateway (uvicorn).")
def gateway(
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
    grace: int = typer.Option(
        20,
        min=1,
        help="On SIGTERM, seconds in-flight requests may take before connections are closed "
        "(keep the orchestrator's kill timeout above this)",
    ),
) -> None:
    import uvicorn

    from crm_core.telemetry import configure_logging

    settings = load_settings()
    configure_logging(settings, service_name="crm-gateway")
    importlib.import_module("crm_api.app")
    # On SIGTERM uvicorn stops accepting, lets running requests finish for up to `grace`
    # seconds, then runs the lifespan shutdown (pools, broker, telemetry flush).
    uvicorn.run(
        "crm_api.app:create_app",
        factory=True,
        host=host or settings.gateway_host,
        port=port or settings.gateway_port,
        workers=workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # our structlog handler on the root logger formats uvicorn's lines too
        timeout_graceful_shutdown=grace,
        proxy_headers=True,
    )


@app.command(help="Run a background worker.")
def worker() -> None:
    raise typer.Exit(importlib.import_module("crm_worker.main").run())


@app.command(help="Run the scheduler that fans periodic work out per tenant.")
def scheduler() -> None:
    raise typer.Exit(importlib.import_module("crm_worker.scheduler").run())


@db_app.command("upgrade", help="Migrate core, then every tenant in parallel batches.")
def db_upgrade(concurrency: int = typer.Option(4, min=1, max=32)) -> None:
    async def run(db: Database) -> int:
        started = time.perf_counter()
        await migrate.upgrade_core(db.engine)
        async with db.core_session() as session:
            ids = await tenants_repo.provisioned_ids(session)
        outcomes = await migrate.upgrade_tenants(db.engine, ids, concurrency=concurrency)
        failed = [o for o in outcomes if o.status == "failed"]
        done = sum(o.status == "upgraded" for o in outcomes)
        for o in failed:
            typer.secho(f"tenant {o.tenant_id}: FAILED {o.error}", fg="red", err=True)
        typer.echo(
            f"core at head; tenants: {done} upgraded, {len(outcomes) - done - len(failed)} already at head, "
            f"{len(failed)} failed ({time.perf_counter() - started:.1f}s)"
        )
        return 1 if failed else 0

    raise typer.Exit(_with_db(run))


@app.command(
    "migrate",
    help="Migrate core, then every tenant in parallel batches (same as `crm db upgrade`; the "
    "image's migrate role and the Helm pre-upgrade hook run this).",
)
def migrate_all(concurrency: int = typer.Option(4, min=1, max=32)) -> None:
    db_upgrade(concurrency=concurrency)


@db_app.command("status", help="Which schemas are behind this code's head (read-only).")
def db_status(
    as_json: bool = typer.Option(False, "--json", help="Print the readiness probe's JSON"),
) -> None:
    import json

    async def run(db: Database) -> int:
        status = await migrate.migration_status(db.engine)
        if as_json:
            typer.echo(json.dumps(status.as_json(limit=1000), indent=2))
        else:
            typer.echo(
                f"core: {status.core_revision} (head {status.core_head}); tenants: "
                f"{status.tenants_checked} checked, {len(status.behind)} behind, "
                f"{len(status.ahead)} ahead"
            )
            for tenant_id, rev in sorted(status.behind.items(), key=lambda kv: str(kv[0])):
                typer.echo(f"  behind: {tenant_id} at {rev}")
        return 0 if status.ok else 1

    raise typer.Exit(_with_db(run))


@tenant_app.command("create")
def tenant_create(
    slug: str,
    name: str = typer.Option(..., help="Company name"),
    plan: str = "standard",
    locale: str = "zh-CN",
    timezone: str = "Asia/Shanghai",
    currency: str = "CNY",
) -> None:
    async def run(db: Database) -> None:
        await migrate.upgrade_core(db.engine)
        tenant, created = await tenants.create(
            db,
            tenants.TenantInput(
                slug=slug, name=name, plan=plan, locale=locale, timezone=timezone, currency=currency
            ),
        )
        typer.echo(f"{'created' if created else 'exists'}: {tenant.slug} ({tenant.id})")

    _with_db(run)


@tenant_app.command("list")
def tenant_list(all: bool = typer.Option(False, "--all", help="Include deleted tenants")) -> None:
    async def run(db: Database) -> None:
        async with db.core_session() as session:
            rows = await tenants_repo.list_all(session, include_deleted=all)
        for t in rows:
            typer.echo(f"{t.slug:24} {t.status.value:10} {t.plan:10} {t.id}  {t.name}")

    _with_db(run)


def _status_command(status: TenantStatus) -> Callable[[str], None]:
    def command(slug: str) -> None:
        async def run(db: Database) -> None:
            tenant = await tenants.set_status(db, slug, status)
            typer.echo(f"{tenant.slug}: {tenant.status.value}")

        _with_db(run)

    return command


tenant_app.command("suspend", help="Refuse the tenant's requests and jobs; data kept.")(
    _status_command(TenantStatus.suspended)
)
tenant_app.command("resume", help="Undo suspend or delete.")(_status_command(TenantStatus.active))
tenant_app.command("delete", help="Close the tenant; data kept and recoverable with resume.")(
    _status_command(TenantStatus.deleted)
)


@tenant_app.command("purge", help="Drop a deleted tenant's schema and row. Irreversible.")
def tenant_purge(
    slug: str, confirm: str = typer.Option(..., help="Repeat the slug to confirm")
) -> None:
    async def run(db: Database) -> None:
        await tenants.purge(db, slug, confirm=confirm)
        typer.echo(f"{slug}: purged")

    _with_db(run)


@user_app.command("create")
def user_create(
    email: str,
    name: str = typer.Option(...),
    tenant: str | None = typer.Option(None, help="Tenant slug to add the user to"),
    role: Role = typer.Option(Role.viewer),
    team: str | None = None,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    operator: bool = typer.Option(False, help="Platform operator (admin console)"),
) -> None:
    from crm_core.identity.service import create_user

    async def run(db: Database) -> None:
        user = await create_user(
            db, email=email, name=name, password=password, tenant_slug=tenant, role=role, team=team,
            platform_operator=operator,
        )  # fmt: skip
        typer.echo(
            f"user {user.email} ({user.id})" + (f" in {tenant} as {role.value}" if tenant else "")
        )

    _with_db(run)


@keys_app.command(
    "rotate",
    help="Sign new tokens with a new key; the old key verifies until its tokens have expired.",
)
def keys_rotate(
    revoke_old: bool = typer.Option(
        False, help="For a leaked key: refuse its tokens at once (everyone signs in again)"
    ),
) -> None:
    from crm_core.identity import keys
    from crm_core.security.crypto import load_master_key

    settings = load_settings()

    async def run(db: Database) -> None:
        done = await keys.rotate(
            db, load_master_key(settings), settings.auth, revoke_old=revoke_old
        )
        retired = ", ".join(done.retired) or "none"
        typer.echo(
            f"signing with {done.new_kid}; retired {retired}, verifying until "
            f"{done.verify_until:%Y-%m-%d %H:%M:%S %Z}; {done.pruned} expired key(s) deleted"
        )

    _with_db(run, settings)


@keys_app.command("list", help="Signing keys, newest first.")
def keys_list() -> None:
    from crm_core.identity import keys

    async def run(db: Database) -> None:
        for k in await keys.list_keys(db):
            state = "signing" if k.retired_at is None else "retired"
            until = f" until {k.verify_until:%Y-%m-%d %H:%M:%S %Z}" if k.verify_until else ""
            typer.echo(f"{k.kid}  {k.algorithm}  {state}{until}  created {k.created_at:%Y-%m-%d}")

    _with_db(run)


@demo_app.command("seed", help="Create a tenant with realistic demo data (idempotent).")
def demo_seed(
    slug: str = "demo",
    customers: int = typer.Option(1000, min=1, max=1_000_000),
    password: str = typer.Option("demo-password-2026", help="Password of the demo users"),
) -> None:
    from crm_core.demo.seed import seed_demo

    async def run(db: Database) -> Any:
        return await seed_demo(
            db, load_settings(), slug=slug, customers=customers, password=password
        )

    result = _with_db(run)
    typer.echo(str(result))


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())
