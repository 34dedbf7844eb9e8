"""Exports: a job streams a filtered list into CSV or XLSX, then the file is the tenant's to
download (``GET /files/{id}``).

The rows are the API list's own query for the principal who asked — same base (data scope,
deleted rows, search on the text a masked role may search), same filter language — read with a
server-side cursor (never the whole list in memory), and phones and e-mails masked exactly as the
API masks them for a role without ``personal_data:read``. The job re-checks ``<entity>:export``
when it runs (the runner re-resolves the user's role and scope).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import DomainError, ErrorCode, Forbidden
from crm_core.exports.specs import (
    ExportSpec,
    cell,
    check_columns,
    coerce_filter,
    spec_of,
    with_related,
)
from crm_core.files import service as files
from crm_core.files.models import FilePurpose
from crm_core.identity.principal import Principal
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job
from crm_core.query.filters import compile_filter
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef

KIND = "exports.run_export"
FORMATS = ("csv", "xlsx")
BATCH = 1_000
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def check_allowed(principal: Principal, entity: str) -> ExportSpec:
    spec = spec_of(entity)
    if not principal.allows(f"{entity}:export"):
        raise Forbidden(f"your role cannot export {entity}s")
    return spec


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: cell(v, None)))


async def start(
    session: AsyncSession,
    principal: Principal,
    entity: str,
    *,
    filter_spec: Mapping[str, Any] | None,
    fmt: str,
    columns: list[str] | None,
    search: str | None = None,
    include_deleted: bool = False,
) -> Job:
    """Queue an export. ``filter_spec`` is the domain filter (``crm_core.query.filters``), already
    checked by the caller against what the principal may filter on."""
    spec = check_allowed(principal, entity)
    if fmt not in FORMATS:
        raise DomainError.one("format", ErrorCode.INVALID, "csv or xlsx")
    names = check_columns(spec, columns)
    compile_filter(coerce_filter(_json_safe(filter_spec), spec.columns), spec.columns)
    params = {
        "entity": entity,
        "format": fmt,
        "columns": names,
        "filter": _json_safe(filter_spec) if filter_spec else None,
        "search": search,
        "include_deleted": include_deleted,
    }
    return await jobs.enqueue(session, principal, KIND, params)


def _query(spec: ExportSpec, principal: Principal, params: Mapping[str, Any]) -> Any:
    base = spec.base(principal, bool(params.get("include_deleted")), params.get("search"))
    where = compile_filter(coerce_filter(params.get("filter"), spec.columns), spec.columns)
    return base.where(where)


class _Sheet:
    """One output file, CSV or XLSX, written as rows come."""

    def __init__(self, fmt: str, writer: files.FileWriter) -> None:
        self.fmt, self._writer = fmt, writer
        if fmt == "xlsx":
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._ws = self._book.create_sheet("export")
        else:
            self._buffer = io.StringIO()
            self._csv = csv.writer(self._buffer)
            writer.write("\ufeff".encode())  # Excel reads the Chinese only with a BOM

    def add(self, values: list[Any]) -> None:
        if self.fmt == "xlsx":
            self._ws.append(["" if v is None else v for v in values])
            return
        self._csv.writerow(["" if v is None else v for v in values])
        if self._buffer.tell() > 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self.fmt == "csv":
            self._writer.write(self._buffer.getvalue().encode())
            self._buffer.seek(0)
            self._buffer.truncate()

    def close(self) -> None:
        if self.fmt == "xlsx":
            self._book.save(self._writer.stream)
        else:
            self.flush()


async def write(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    tenant: TenantRef,
    params: Mapping[str, Any],
    progress: Any = None,
) -> dict[str, Any]:
    """Stream the list into a new file of the tenant and record it; returns the job's result."""
    spec = check_allowed(principal, str(params["entity"]))
    fmt = str(params.get("format", "csv"))
    names = check_columns(spec, list(params.get("columns") or []))
    mask = not principal.sees_personal_data
    stmt = _query(spec, principal, params)
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    if progress is not None:
        await progress(0, total)
    writer = files.FileWriter(settings, tenant)
    done = 0
    try:
        sheet = _Sheet(fmt, writer)
        sheet.add(names)
        ordered = with_related(spec, stmt, names).order_by(spec.model.created_at, spec.model.id)
        result = await session.stream(ordered.execution_options(yield_per=BATCH))
        async for found in result:
            row, extra = found[0], found._mapping
            sheet.add(
                [
                    cell(
                        extra[n] if n in spec.related else getattr(row, n),
                        spec.personal.get(n) if mask else None,
                    )
                    for n in names
                ]
            )
            done += 1
            if progress is not None and done % (BATCH * 10) == 0:
                await progress(done, total)
        sheet.close()
        written = writer.finish()
    except BaseException:
        writer.abort()
        raise
    stored = files.record(
        session, principal, settings, written,
        purpose=FilePurpose.export,
        filename=f"{spec.entity}s-export.{fmt}",
        content_type=CONTENT_TYPES[fmt],
    )  # fmt: skip
    await session.flush()
    if progress is not None:
        await progress(done, total)
    return {
        "file_id": str(stored.id),
        "url": f"/files/{stored.id}",
        "rows": done,
        "format": fmt,
        "masked": mask,
    }
