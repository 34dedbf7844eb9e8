"""``crm import <file> --tenant <slug> --entity customers|contacts|leads|products|orders``.

The same path as GraphQL's ``startImport``: the file is stored as an upload of the tenant, an
import run and its job are created by ``crm_core.imports.service.start`` (with the mapping guessed
from the headers, ``--mapping`` on top), and the job's first attempt runs here, through the job
runner, while progress is printed. The import acts for the company as the system (its audit shows
the nil user), like other operator commands.

When the attempt fails but the job has attempts left, the job is queued again for the workers
(its message goes to the broker of the settings; without one, the scheduler's sweep re-sends it):
the command says so and exits 1. Exit codes: 0 succeeded, 1 the import did not succeed,
2 bad arguments (the field named).
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import select

from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.files import service as files
from crm_core.identity.principal import Principal
from crm_core.imports import service as imports
from crm_core.imports.models import ImportRun, ImportStatus
from crm_core.jobs.models import FINISHED as JOB_FINISHED
from crm_core.jobs.models import Job
from crm_core.messaging.outbox import Dispatcher, NullDispatcher, unit_of_work
from crm_core.settings import Settings, load_settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import TenantStatus

# The command's plural names, and the service's entity names.
ENTITIES = {
    "customers": "customer",
    "contacts": "contact",
    "leads": "lead",
    "products": "product",
    "orders": "order",
}
READ_BYTES = 1 << 20
PROGRESS_EVERY_SECONDS = 0.5


@dataclass
class _Runtime:
    """What the job runner needs of a worker, for an attempt run in this process."""

    settings: Settings
    db: Database
    dispatcher: Dispatcher

    async def database(self) -> Database:
        return self.db


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``column=field`` pairs; ``column=`` leaves that column out."""
    out: dict[str, str] = {}
    errors: list[FieldError] = []
    for i, pair in enumerate(pairs):
        column, sep, field = pair.partition("=")
        if not sep or not column.strip():
            errors.append(
                FieldError(f"mapping.{i}", ErrorCode.INVALID, f"{pair!r}: expected column=field")
            )
        elif column.strip() in out:
            errors.append(FieldError(f"mapping.{i}", ErrorCode.DUPLICATE, "column mapped twice"))
        else:
            out[column.strip()] = field.strip()
    if errors:
        raise DomainError(errors)
    return out


def entity_of(value: str) -> str:
    name = value.strip().lower()
    if name in ENTITIES:
        return ENTITIES[name]
    if name in ENTITIES.values():
        return name
    raise DomainError.one("entity", ErrorCode.INVALID, f"one of {', '.join(ENTITIES)}")


async def _tenant(db: Database, slug: str) -> TenantRef:
    async with db.core_session() as session:
        row = await tenants_repo.get_by_slug(session, slug)
    if row is None or row.provisioned_at is None:
        raise DomainError.one("tenant", ErrorCode.NOT_FOUND, f"no tenant {slug!r}")
    if row.status is not TenantStatus.active:
        raise DomainError.one("tenant", ErrorCode.INVALID, f"the tenant is {row.status.value}")
    return TenantRef(id=row.id, slug=row.slug)


def _dispatcher(settings: Settings) -> tuple[Dispatcher, Any]:
    """The broker of the settings (a retry goes to the workers), or none (the sweep re-sends)."""
    if settings.redis_url is None:
        return NullDispatcher(), None
    from crm_core.messaging.broker import BrokerDispatcher, build_broker

    broker = build_broker(settings)
    return BrokerDispatcher(broker), broker


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while piece := await asyncio.to_thread(f.read, READ_BYTES):
            yield piece


async def _progress(db: Database, tenant: TenantRef, run_id: uuid.UUID) -> None:
    shown: tuple[Any, ...] = ()
    while True:
        async with db.tenant(tenant).read() as session:
            row = (
                await session.execute(
                    select(ImportRun.status, ImportRun.rows_done, ImportRun.rows_total).where(
                        ImportRun.id == run_id
                    )
                )
            ).one()
        now = (row.status, row.rows_done, row.rows_total)
        if now != shown:
            total = f"/{row.rows_total:,}" if row.rows_total is not None else ""
            typer.echo(f"… {row.status.value}: {row.rows_done:,}{total} rows", err=True)
            shown = now
        await asyncio.sleep(PROGRESS_EVERY_SECONDS)


async def run_import(
    settings: Settings,
    db: Database,
    dispatcher: Dispatcher,
    *,
    path: Path,
    slug: str,
    entity: str,
    mapping: dict[str, str] | None,
    dry_run: bool,
) -> tuple[ImportRun, Job, Path | None]:
    """Upload, start and run the first attempt here; the run and job as they ended."""
    from crm_core.imports import tasks  # noqa: F401 - declares the job kind
    from crm_core.jobs.runner import run_message
    from crm_core.jobs.schemas import kind_of

    tenant = await _tenant(db, slug)
    who = Principal.system(tenant)
    tdb = db.tenant(tenant)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    async with unit_of_work(tdb, NullDispatcher()) as session:
        upload = await files.save_upload(
            session, who, settings, _chunks(path), filename=path.name, content_type=content_type
        )
    # Started without a message: this process runs the first attempt (a retry goes out as usual).
    async with unit_of_work(tdb, NullDispatcher()) as session:
        run = await imports.start(
            session, who, settings, upload.id, entity, mapping, dry_run=dry_run
        )
    assert run.job_id is not None
    columns = ", ".join(f"{c} → {f}" for c, f in run.mapping.items())
    typer.echo(f"import {run.id} (job {run.job_id}): {columns}", err=True)
    watcher = asyncio.create_task(_progress(db, tenant, run.id))
    try:
        await run_message(
            kind_of(imports.KIND),
            _Runtime(settings, db, dispatcher),
            db,
            tenant_id=str(tenant.id),
            job_id=str(run.job_id),
            attempt=1,
        )
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    async with tdb.transaction() as session:
        done = await imports.get(session, who, run.id, persist=True)
        job = await session.get(Job, run.job_id)
    assert job is not None
    report = files.path_of(settings, tenant, done.error_file_id) if done.error_file_id else None
    return done, job, report


def import_file(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="A CSV or XLSX file"
    ),
    tenant: str = typer.Option(..., "--tenant", help="The tenant's slug"),
    entity: str = typer.Option(..., "--entity", help=", ".join(ENTITIES)),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Validate and count every row; write nothing"
    ),
    mapping: list[str] = typer.Option(
        [],
        "--mapping",
        help="column=field, repeatable, on top of the guess from the headers; column= skips it",
    ),
) -> None:
    settings = load_settings()

    async def main() -> int:
        given = parse_mapping(mapping) if mapping else None
        name = entity_of(entity)
        db = Database.create(settings)
        dispatcher, broker = _dispatcher(settings)
        try:
            run, job, report = await run_import(
                settings, db, dispatcher,
                path=file, slug=tenant, entity=name, mapping=given, dry_run=dry_run,
            )  # fmt: skip
        finally:
            if broker is not None:
                broker.close()
            await db.dispose()
        label = "dry run " if run.dry_run else ""
        typer.echo(
            f"{label}{run.status.value}: {run.rows_done:,} rows, {run.created:,} created, "
            f"{run.updated:,} updated, {run.failed:,} failed"
        )
        if report is not None:
            typer.echo(f"error report: {report}")
        if run.status is ImportStatus.succeeded:
            return 0
        if job.status not in JOB_FINISHED:
            typer.secho(
                f"attempt {job.attempts} failed: {job.error}; job {job.id} is queued again for "
                f"the workers (attempt {job.attempts + 1} of {job.max_attempts})",
                fg="yellow",
                err=True,
            )
        else:
            typer.secho(f"import {run.status.value}: {run.error or job.error}", fg="red", err=True)
        return 1

    try:
        code = asyncio.run(main())
    except DomainError as exc:
        for e in exc.errors:
            typer.secho(f"error: {e.field or '-'}: {e.message}", fg="red", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)
