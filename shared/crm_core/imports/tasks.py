"""``imports.run_import``: the job that stages an uploaded file with COPY and merges it in chunks.

Idempotent per effect: staging is replaced whole in one transaction (a retry starts it again);
each chunk commits its writes, its error rows and the run's resume point together, so an attempt
after a crash resumes after the last committed chunk and never merges a row twice (a chunk whose
resume point moved under it, because a stale attempt still ran, rolls back).

The run follows the job: an attempt that fails for good (``JobFailed``, or the last attempt) ends
the run ``failed`` with the error the job gets; a re-run of a failed job reopens the run and
resumes it. Endings no handler sees (a worker killed on the last attempt, a job refused) are
applied when the run is read (``service.follow_job``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from crm_core.db.engine import Database
from crm_core.db.staging_sql import copy_rows, no_statement_timeout
from crm_core.files import service as files
from crm_core.files.models import StoredFile
from crm_core.imports import readers
from crm_core.imports import service as imports
from crm_core.imports.models import ImportEntity, ImportRun, ImportStagingRow, ImportStatus
from crm_core.imports.rows import Chunk
from crm_core.jobs.runner import JobContext, JobFailed, job_actor
from crm_core.jobs.schemas import kind_of
from crm_core.messaging.outbox import Dispatcher, NullDispatcher, unit_of_work
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantCipher, TenantKeys
from crm_core.settings import Settings, load_settings

QUEUE = "imports"
TIME_LIMIT_MS = 6 * 3_600_000


def _settings(ctx: JobContext) -> Settings:
    return ctx.runtime.settings if ctx.runtime is not None else load_settings()


def _dispatcher(ctx: JobContext) -> Dispatcher:
    return ctx.runtime.dispatcher if ctx.runtime is not None else NullDispatcher()


async def _cipher(ctx: JobContext, settings: Settings) -> TenantCipher | None:
    try:
        keys = TenantKeys(load_master_key(settings))
        return await keys.cipher(Database(ctx.db.factory.kw["bind"]), ctx.tenant.id)
    except Exception:  # no key configured: sensitive columns are then refused per row
        return None


async def _staged_rows(path: Path) -> AsyncIterator[tuple[int, list[str]]]:
    for i, row in enumerate(readers.data_rows(path), start=1):
        yield row
        if i % 2_000 == 0:
            await asyncio.sleep(0)  # let the heartbeat run while a large file streams


async def stage(ctx: JobContext, run: ImportRun, path: Path) -> int:
    """The whole file into ``import_staging`` with one COPY, replacing any earlier attempt's."""
    async with ctx.db.transaction() as session:
        await no_statement_timeout(session)
        await session.execute(delete(ImportStagingRow).where(ImportStagingRow.run_id == run.id))
        count = await copy_rows(session, ctx.tenant, run.id, _staged_rows(path))
        await session.execute(
            update(ImportRun)
            .where(ImportRun.id == run.id)
            .values(staged=True, rows_total=count, status=ImportStatus.merging)
        )
    run.staged, run.rows_total = True, count
    return count


async def _end_run(ctx: JobContext, run_id: uuid.UUID, error: str) -> None:
    async with ctx.db.transaction() as session:
        run = (
            await session.execute(select(ImportRun).where(ImportRun.id == run_id))
        ).scalar_one_or_none()
        if run is not None:
            await imports.end_run(session, run, ImportStatus.failed, error)


@job_actor(imports.KIND, max_retries=3, queue=QUEUE, time_limit_ms=TIME_LIMIT_MS)
async def run_import(ctx: JobContext) -> dict[str, Any]:
    try:
        run_id = uuid.UUID(str(ctx.params["run_id"]))
    except (KeyError, ValueError) as exc:
        raise JobFailed("the job names no valid import") from exc
    try:
        return await _run(ctx, run_id)
    except JobFailed as exc:
        await _end_run(ctx, run_id, str(exc) or "failed")
        raise
    except Exception as exc:
        # The runner dead-letters the job after its last attempt: the run ends with it, with the
        # error the job shows. Earlier attempts leave the run open: the next one resumes it.
        if ctx.attempt >= kind_of(imports.KIND).max_attempts:
            await _end_run(ctx, run_id, f"{type(exc).__name__}: {exc}")
        raise


async def _run(ctx: JobContext, run_id: uuid.UUID) -> dict[str, Any]:
    settings = _settings(ctx)
    async with ctx.db.read() as session:
        run = (
            await session.execute(select(ImportRun).where(ImportRun.id == run_id))
        ).scalar_one_or_none()
        file_row = await session.get(StoredFile, run.file_id) if run is not None else None
    if run is None or file_row is None:
        raise JobFailed("the import or its file no longer exists")
    if run.status is ImportStatus.succeeded:
        return imports.summary(run)  # done already (the worker died before the job was marked)
    if run.status in imports.FINISHED:
        # A claimed attempt of an ended run: the job was re-run (retryJob). Resume it.
        async with ctx.db.transaction() as session:
            await imports.reopen(session, run)
    try:
        imports.check_allowed(ctx.principal, run.entity)
    except Exception as exc:
        raise JobFailed(str(exc)) from exc
    path = files.path_of(settings, ctx.tenant, file_row.id)
    if not path.exists():
        raise JobFailed("the uploaded file is gone")
    headers = readers.read_header(path)
    columns = imports.Source(headers, dict(run.mapping)).columns
    number_at = (
        columns["number"][0] if run.entity is ImportEntity.order and "number" in columns else None
    )
    if not run.staged:
        async with ctx.db.transaction() as session:
            await session.execute(
                update(ImportRun).where(ImportRun.id == run.id).values(status=ImportStatus.staging)
            )
        await ctx.report(0, None)
        await stage(ctx, run, path)
    total = run.rows_total or 0
    await ctx.report(run.rows_done, total)
    cipher = await _cipher(ctx, settings)
    size = settings.transfer.chunk_rows
    while True:
        if await ctx.cancelled():
            async with ctx.db.transaction() as session:
                await imports.finish(session, run, ImportStatus.cancelled, None)
            return imports.summary(run) | {"cancelled": True}
        async with unit_of_work(ctx.db, _dispatcher(ctx)) as session:
            rows = await imports.staged_chunk(session, run, size, number_at)
            if not rows:
                break
            chunk = Chunk(session, ctx.principal, columns, settings.default_phone_region, cipher)
            savepoint = await session.begin_nested()
            results = await imports.merge_rows(chunk, run.entity, rows)
            if run.dry_run:
                await savepoint.rollback()
            else:
                await savepoint.commit()
            await imports.record_chunk(session, run, results, columns)
        await ctx.report(run.rows_done, total)
    async with ctx.db.transaction() as session:
        report = await imports.write_report(session, ctx.principal, settings, ctx.tenant, run)
        await imports.finish(session, run, ImportStatus.succeeded, report)
    run.error_file_id = report
    return imports.summary(run)
