"""``crm backup create|list|verify|restore|prune``: operators' backup commands.

They run in this process (no worker needed), against the database and storage of the settings.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from crm_core.backups import restore, retention, service
from crm_core.backups.models import BackupStatus
from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode
from crm_core.settings import Settings, load_settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo

backup_app = typer.Typer(help="Per-tenant logical backups and restores.", no_args_is_help=True)
T = TypeVar("T")


def _run(fn: Callable[[Database, Settings], Awaitable[T]]) -> T:
    settings = load_settings()

    async def main() -> T:
        db = Database.create(settings)
        try:
            return await fn(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        for e in exc.errors:
            typer.secho(f"error: {e.field or '-'}: {e.message}", fg="red", err=True)
        raise typer.Exit(2) from None


async def _tenant(db: Database, slug: str) -> TenantRef:
    async with db.core_session() as session:
        row = await tenants_repo.get_by_slug(session, slug)
    if row is None or row.provisioned_at is None:
        raise DomainError.one("slug", ErrorCode.NOT_FOUND, f"no tenant {slug!r}")
    return TenantRef(id=row.id, slug=row.slug)


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter("not a backup id") from None


@backup_app.command("create", help="Back up one tenant now and wait for it.")
def create(slug: str) -> None:
    async def go(db: Database, settings: Settings) -> int:
        tenant = await _tenant(db, slug)
        async with db.core_transaction() as session:
            row = await service.request_backup(session, settings, tenant, created_by=None)
        done = await service.run_backup(db, settings, row.id)
        if done is None or done.status is not BackupStatus.succeeded:
            typer.secho(f"backup {row.id} failed: {done.error if done else '?'}", fg="red")
            return 1
        typer.echo(
            f"{done.id}  {done.tables} tables, {done.row_count} rows, {done.size_bytes} bytes  "
            f"{done.location}"
        )
        return 0

    raise typer.Exit(_run(go))


@backup_app.command("list", help="Backups, newest first (one tenant's, or all).")
def list_(
    slug: str | None = typer.Argument(None),
    limit: int = typer.Option(50, min=1, max=500),
    all_: bool = typer.Option(False, "--all", help="Include deleted (pruned) backups"),
) -> None:
    async def go(db: Database, settings: Settings) -> None:
        tenant_id = (await _tenant(db, slug)).id if slug else None
        rows = await service.list_backups(db, tenant_id, limit=limit, include_deleted=all_)
        for b in rows:
            typer.echo(
                f"{b.id}  {b.tenant_slug:20} {b.status.value:9} {b.trigger:9} "
                f"{b.created_at:%Y-%m-%d %H:%M}  {b.row_count or 0:>9} rows "
                f"{b.size_bytes or 0:>12} B  {b.error or ''}"
            )

    _run(go)


@backup_app.command("verify", help="Check a backup's files against its manifest.")
def verify(
    backup_id: str,
    quick: bool = typer.Option(False, help="Checksums of the files only, no decompression"),
) -> None:
    async def go(db: Database, settings: Settings) -> int:
        report = await restore.verify(db, settings, _id(backup_id), tenant_id=None, deep=not quick)
        if report.ok:
            typer.echo(f"ok: {report.tables} tables, {report.rows} rows")
            return 0
        for problem in report.problems:
            typer.secho(f"BAD: {problem}", fg="red")
        return 1

    raise typer.Exit(_run(go))


@backup_app.command(
    "restore",
    help="Restore a backup into its own tenant (replacing ALL its data; --confirm repeats the "
    "slug) or, with --into, into a new tenant.",
)
def restore_cmd(
    backup_id: str,
    confirm: str | None = typer.Option(None, help="The tenant's slug, to confirm"),
    into: str | None = typer.Option(None, help="Slug of a NEW tenant to create from the backup"),
    name: str | None = typer.Option(None, help="Name of the new tenant (default: the backup's)"),
) -> None:
    async def go(db: Database, settings: Settings) -> None:
        if into:
            result = await restore.restore_into_new_tenant(
                db, settings, _id(backup_id), slug=into, name=name
            )
        else:
            if not confirm:
                raise DomainError.one("confirm", ErrorCode.REQUIRED, "repeat the tenant's slug")
            result = await restore.restore_into_tenant(
                db, settings, _id(backup_id), confirm=confirm, tenant_id=None
            )
        typer.echo(
            f"restored into {result.tenant_slug} ({result.tenant_id}): {result.tables} tables, "
            f"{result.rows} rows"
        )

    _run(go)


@backup_app.command("prune", help="Apply retention now (one tenant, or every tenant).")
def prune(slug: str | None = typer.Argument(None)) -> None:
    async def go(db: Database, settings: Settings) -> None:
        if slug:
            ids = [(await _tenant(db, slug)).id]
        else:
            async with db.core_session() as session:
                ids = list(await tenants_repo.provisioned_ids(session))
        for tenant_id in ids:
            done = await retention.prune(db, settings, tenant_id)
            if done.deleted or done.abandoned:
                typer.echo(
                    f"{tenant_id}: {len(done.deleted)} deleted, {len(done.abandoned)} abandoned"
                )

    _run(go)
