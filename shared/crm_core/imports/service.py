"""Import use cases: start a run (a job), preview the first rows, merge a chunk, write the report.

A run goes: the upload is COPYed into ``import_staging`` (streamed, one transaction), then merged
into the real tables a chunk at a time (``transfer.chunk_rows`` rows per transaction, each through
the entity's service), its per-row errors kept in ``import_errors``; at the end a CSV report of
them (row, column, field, value, error) is written as a file of the tenant. A dry run does all of
it, but every chunk's writes are rolled back: only the counts and errors remain.

The run's status follows its job: a job that ends without the run ending (its last attempt
failed, the sweep dead-lettered it after its worker died, it was refused or cancelled before it
ran) ends the run ``failed`` (or ``cancelled``) with the job's error, so no run is left showing
``merging`` forever. The handler does it when it can (``end_run``); reads apply the job's outcome
too (``follow_job``), for the endings no handler saw. A re-run of the job (``retryJob``) reopens
the run, re-stages the file and resumes after the last merged row.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from crm_core.errors import DomainError, ErrorCode, Forbidden, NotFound
from crm_core.files import service as files
from crm_core.files.models import FilePurpose
from crm_core.identity.principal import Principal
from crm_core.imports import customers, entities, mapping, readers
from crm_core.imports.models import (
    ImportEntity,
    ImportRowError,
    ImportRun,
    ImportStagingRow,
    ImportStatus,
)
from crm_core.imports.rows import CREATED, FAILED, UPDATED, Chunk, RowResult, error_rows
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job, JobStatus
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef

KIND = "imports.run_import"
PREVIEW_ROWS = 20
MAX_PREVIEW_ROWS = 100
FINISHED = frozenset({ImportStatus.succeeded, ImportStatus.failed, ImportStatus.cancelled})
# A job that ended this way ends its run this way (a run never outlives its job).
RUN_ENDS = {
    JobStatus.failed: ImportStatus.failed,
    JobStatus.dead: ImportStatus.failed,
    JobStatus.cancelled: ImportStatus.cancelled,
}
MAX_ERROR_CHARS = 2_000


class RunMoved(Exception):
    """The run's resume point moved under this attempt (another attempt merged the chunk): its
    transaction must roll back, or the chunk would be merged twice."""


Merger = Callable[[Chunk, Sequence[RowResult]], Awaitable[None]]
MERGERS: dict[ImportEntity, Merger] = {
    ImportEntity.customer: customers.merge,
    ImportEntity.contact: entities.merge_contacts,
    ImportEntity.lead: entities.merge_leads,
    ImportEntity.product: entities.merge_products,
    ImportEntity.order: entities.merge_orders,
}


def entity_of(value: str) -> ImportEntity:
    try:
        return ImportEntity(value)
    except ValueError:
        raise DomainError.one("entity", ErrorCode.INVALID, "not an importable entity") from None


def check_allowed(principal: Principal, entity: ImportEntity) -> None:
    """An import creates and updates: it needs both rights on the entity."""
    for action in ("create", "update"):
        if not principal.allows(f"{entity.value}:{action}"):
            raise Forbidden(f"your role cannot {action} {entity.value}s")


@dataclass(frozen=True, slots=True)
class Source:
    headers: list[str]
    mapping: dict[str, str]

    @property
    def columns(self) -> dict[str, tuple[int, str]]:
        return mapping.columns_of(self.headers, self.mapping)


async def source_of(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    file_id: uuid.UUID,
    entity: ImportEntity,
    given: Mapping[str, Any] | None,
) -> tuple[Any, Source]:
    row = await files.get(session, principal, file_id)
    if row.purpose is not FilePurpose.upload:
        raise NotFound("file_id", "file")
    path = files.path_of(settings, principal.tenant, row.id)
    if not path.exists():
        raise NotFound("file_id", "file")
    headers = readers.read_header(path)
    return row, Source(headers, mapping.resolve(entity, headers, given))


async def merge_rows(
    chunk: Chunk, entity: ImportEntity, rows: Sequence[tuple[int, Sequence[str]]]
) -> list[RowResult]:
    results = [RowResult(n, mapping.values_of(cells, chunk.columns)) for n, cells in rows]
    live = [r for r in results if r.values]
    for r in results:
        if not r.values:
            r.fail([])  # nothing mapped in this row: skipped, not an error
    await MERGERS[entity](chunk, live)
    return results


@dataclass(frozen=True, slots=True)
class Preview:
    headers: list[str]
    mapping: dict[str, str]
    rows: list[RowResult]


async def preview(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    file_id: uuid.UUID,
    entity_name: str,
    given: Mapping[str, Any] | None,
    *,
    limit: int = PREVIEW_ROWS,
    cipher: Any = None,
) -> Preview:
    """The first ``limit`` rows parsed, validated and matched exactly as the run will, in a
    savepoint that is rolled back: nothing is written."""
    entity = entity_of(entity_name)
    check_allowed(principal, entity)
    file_row, source = await source_of(session, principal, settings, file_id, entity, given)
    path = files.path_of(settings, principal.tenant, file_row.id)
    rows = list(readers.data_rows(path, limit=max(1, min(limit, MAX_PREVIEW_ROWS))))
    chunk = Chunk(session, principal, source.columns, settings.default_phone_region, cipher)
    savepoint = await session.begin_nested()
    try:
        results = await merge_rows(chunk, entity, rows)
    finally:
        await savepoint.rollback()
    return Preview(source.headers, source.mapping, results)


async def start(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    file_id: uuid.UUID,
    entity_name: str,
    given: Mapping[str, Any] | None,
    *,
    dry_run: bool,
) -> ImportRun:
    entity = entity_of(entity_name)
    check_allowed(principal, entity)
    file_row, source = await source_of(session, principal, settings, file_id, entity, given)
    if not source.mapping:
        raise DomainError.one("mapping", ErrorCode.REQUIRED, "no column matches a field")
    run = ImportRun(
        id=uuid.uuid4(),
        file_id=file_row.id,
        entity=entity,
        mapping=source.mapping,
        dry_run=dry_run,
        status=ImportStatus.queued,
        staged=False,
        rows_done=0,
        last_row_number=0,
        created=0,
        updated=0,
        failed=0,
        created_by=None if principal.user_id.int == 0 else principal.user_id,
    )
    session.add(run)
    await session.flush()
    job = await jobs.enqueue(session, principal, KIND, {"run_id": str(run.id)})
    run.job_id = job.id
    await session.flush()
    return run


def visible(principal: Principal) -> Any:
    if principal.allows("job:manage"):
        return ImportRun.id.is_not(None)
    return ImportRun.created_by == principal.user_id


async def get(
    session: AsyncSession, principal: Principal, run_id: uuid.UUID, *, persist: bool = False
) -> ImportRun:
    """The run as its job has left it (see ``follow_job``); ``persist`` in a transaction that
    commits writes that outcome down, otherwise it is only applied to the returned row."""
    stmt = select(ImportRun).where(ImportRun.id == run_id, visible(principal))
    run = (await session.execute(stmt)).scalar_one_or_none()
    if run is None:
        raise NotFound("id", "import")
    await follow_job(session, run, persist=persist)
    return run


async def follow_job(session: AsyncSession, run: ImportRun, *, persist: bool) -> None:
    """A run still open whose job has ended failed, dead or cancelled ends the same way, with the
    job's error."""
    if run.status in FINISHED or run.job_id is None:
        return
    job = (
        await session.execute(
            select(Job.status, Job.error, Job.finished_at).where(Job.id == run.job_id)
        )
    ).one_or_none()
    if job is None:
        status, error, at = ImportStatus.failed, "its job no longer exists", datetime.now(UTC)
    elif job.status in RUN_ENDS:
        status, error, at = RUN_ENDS[job.status], job.error, job.finished_at
    else:
        return
    if persist:
        await end_run(session, run, status, error)
    else:
        _set(run, status=status, error=error, finished_at=at or datetime.now(UTC))


def _set(run: ImportRun, **values: Any) -> None:
    """Values written (or about to be) by a statement: the row object agrees, without a flush."""
    for name, value in values.items():
        set_committed_value(run, name, value)


async def end_run(
    session: AsyncSession, run: ImportRun, status: ImportStatus, error: str | None
) -> bool:
    """An open run ends ``failed`` or ``cancelled`` with ``error``; its staging rows go (a re-run
    stages the file again and resumes after ``last_row_number``). False if it had ended already."""
    now = datetime.now(UTC)
    error = error[:MAX_ERROR_CHARS] if error else None
    result = await session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status.not_in(FINISHED))
        .values(status=status, error=error, finished_at=now, staged=False)
    )
    if _rowcount(result) == 0:
        return False
    await session.execute(delete(ImportStagingRow).where(ImportStagingRow.run_id == run.id))
    _set(run, status=status, error=error, finished_at=now, staged=False)
    return True


async def reopen(session: AsyncSession, run: ImportRun) -> None:
    """A failed or cancelled run whose job runs again (``retryJob``): open again, error cleared;
    counts and the resume point stay, so rows already merged are not merged again."""
    status = ImportStatus.merging if run.staged else ImportStatus.queued
    await session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id)
        .values(status=status, error=None, finished_at=None)
    )
    _set(run, status=status, error=None, finished_at=None)


async def settle_ended_jobs(session: AsyncSession, limit: int = 500) -> int:
    """Every open run whose job has ended failed, dead or cancelled is ended the same way (for
    a periodic upkeep: the endings no handler saw). Returns how many were ended."""
    stmt = (
        select(ImportRun)
        .join(Job, Job.id == ImportRun.job_id)
        .where(ImportRun.status.not_in(FINISHED), Job.status.in_(list(RUN_ENDS)))
        .limit(limit)
        .with_for_update(of=ImportRun, skip_locked=True)
    )
    ended = 0
    for run in (await session.execute(stmt)).scalars().all():
        await follow_job(session, run, persist=True)
        ended += run.status in FINISHED
    return ended


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


# --- the job's steps ---------------------------------------------------------------------------


async def staged_chunk(
    session: AsyncSession, run: ImportRun, size: int, order_number_at: int | None = None
) -> list[tuple[int, list[str]]]:
    """The next rows after the last merged one. For orders (``order_number_at``: the column of
    the order number) a chunk never splits one order's lines: they wait for the next chunk."""
    stmt = (
        select(ImportStagingRow.row_number, ImportStagingRow.cells)
        .where(
            ImportStagingRow.run_id == run.id,
            ImportStagingRow.row_number > run.last_row_number,
        )
        .order_by(ImportStagingRow.row_number)
        .limit(size)
    )
    rows = [(n, list(cells)) for n, cells in (await session.execute(stmt)).all()]
    if order_number_at is not None and len(rows) == size:

        def number(cells: list[str]) -> str:
            return cells[order_number_at].strip() if order_number_at < len(cells) else ""

        last = number(rows[-1][1])
        kept = [r for r in rows if number(r[1]) != last] if last else rows
        rows = kept or rows
    return rows


async def record_chunk(
    session: AsyncSession, run: ImportRun, results: Sequence[RowResult], columns: Mapping[str, Any]
) -> None:
    """The chunk's errors and counters, in the chunk's transaction (a retry resumes after it)."""
    lines = error_rows({r.row_number: r for r in results if r.errors}, columns)
    if lines:
        await session.execute(insert(ImportRowError), [{"run_id": run.id, **x} for x in lines])
    created = sum(r.action == CREATED for r in results)
    updated = sum(r.action == UPDATED for r in results)
    failed = sum(r.action == FAILED and bool(r.errors) for r in results)
    last = max(r.row_number for r in results)
    moved = await session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.last_row_number == run.last_row_number)
        .values(
            created=ImportRun.created + created,
            updated=ImportRun.updated + updated,
            failed=ImportRun.failed + failed,
            rows_done=ImportRun.rows_done + len(results),
            last_row_number=last,
        )
    )
    if _rowcount(moved) != 1:
        raise RunMoved(f"import {run.id}: another attempt merged past row {run.last_row_number}")
    run.created += created
    run.updated += updated
    run.failed += failed
    run.rows_done += len(results)
    run.last_row_number = last


async def write_report(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    tenant: TenantRef,
    run: ImportRun,
) -> uuid.UUID | None:
    """The per-row error report as CSV (UTF-8 with BOM, so Excel reads Chinese), streamed from
    ``import_errors``; None when no row failed."""
    if run.failed == 0:
        return None
    writer = files.FileWriter(settings, tenant)
    try:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["row", "column", "field", "value", "error"])
        writer.write(("\ufeff" + buffer.getvalue()).encode())
        stmt = (
            select(ImportRowError)
            .where(ImportRowError.run_id == run.id)
            .order_by(ImportRowError.row_number, ImportRowError.id)
            .execution_options(yield_per=2_000)
        )
        async for e in await session.stream_scalars(stmt):
            buffer.seek(0)
            buffer.truncate()
            out.writerow([e.row_number, e.column or "", e.field or "", e.value or "", e.message])
            writer.write(buffer.getvalue().encode())
        written = writer.finish()
    except BaseException:
        writer.abort()
        raise
    files.record(
        session, principal, settings, written,
        purpose=FilePurpose.import_errors,
        filename=f"import-{run.entity.value}-errors-{str(run.id)[:8]}.csv",
        content_type="text/csv; charset=utf-8",
    )  # fmt: skip
    await session.flush()
    return written.file_id


async def finish(
    session: AsyncSession, run: ImportRun, status: ImportStatus, error_file_id: uuid.UUID | None
) -> None:
    await session.execute(delete(ImportStagingRow).where(ImportStagingRow.run_id == run.id))
    await session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id)
        .values(status=status, error_file_id=error_file_id, finished_at=datetime.now(UTC))
    )
    _set(run, status=status)


def summary(run: ImportRun) -> dict[str, Any]:
    return {
        "run_id": str(run.id),
        "entity": run.entity.value,
        "dry_run": run.dry_run,
        "rows": run.rows_done,
        "created": run.created,
        "updated": run.updated,
        "failed": run.failed,
        "error_file_id": str(run.error_file_id) if run.error_file_id else None,
    }
