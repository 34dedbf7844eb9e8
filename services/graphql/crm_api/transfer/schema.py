"""GraphQL of imports and exports.

Upload a file with ``POST /files``, then ``importPreview`` (the first rows parsed, validated and
matched, nothing written), then ``startImport`` (a job; ``dryRun`` validates everything and writes
nothing), then ``importRun(id)`` for its counts and ``errorReportUrl``. ``startExport`` queues a
job whose result names the file to ``GET``. Rights are checked by the services: an import needs
``<entity>:create`` and ``<entity>:update``, an export ``<entity>:export``.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Any

import strawberry
from strawberry.scalars import JSON

# Importing the task modules declares the job kinds this process enqueues.
import crm_core.exports.tasks
import crm_core.imports.tasks  # noqa: F401
from crm_api.contacts import inputs as contact_inputs
from crm_api.contacts.queries import LIST as CONTACTS
from crm_api.context import Info
from crm_api.customers import inputs as customer_inputs
from crm_api.customers.queries import LIST as CUSTOMERS
from crm_api.errors import UserError, as_graphql_errors, user_errors
from crm_api.filters import to_spec
from crm_api.leads import inputs as lead_inputs
from crm_api.leads.queries import LIST as LEADS
from crm_api.listing import ListSpec, refuse_personal
from crm_api.mutation import run
from crm_api.orders import inputs as order_inputs
from crm_api.orders.queries import LIST as ORDERS
from crm_api.permissions import requires
from crm_api.products import inputs as product_inputs
from crm_api.products.queries import LIST as PRODUCTS
from crm_api.relay import from_global_id, to_global_id
from crm_core.errors import DomainError, ErrorCode
from crm_core.exports import service as exports
from crm_core.imports import mapping as import_mapping
from crm_core.imports import service as imports
from crm_core.imports.models import ImportEntity as Entity
from crm_core.imports.models import ImportRun as RunRow
from crm_core.query.filters import compile_filter

TYPE_NAME = "ImportRun"
SIGNED_IN = "job:read"  # every role; the services check the entity's rights


@strawberry.enum(description="What a file can be imported into.")
class ImportEntity(enum.Enum):
    CUSTOMER = "customer"
    CONTACT = "contact"
    LEAD = "lead"
    PRODUCT = "product"
    ORDER = "order"


@strawberry.enum(description="Lists that can be exported.")
class ExportEntity(enum.Enum):
    CUSTOMER = "customer"
    CONTACT = "contact"
    LEAD = "lead"
    PRODUCT = "product"
    ORDER = "order"


@strawberry.enum
class ExportFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"


@strawberry.input(description="Feed a column of the file into a field; no field ignores it.")
class ImportColumnInput:
    column: str = strawberry.field(description="The header text, as in the file.")
    field: str | None = strawberry.field(description="e.g. `name`, `phone`, `customerCode`.")


@strawberry.type
class ImportColumn:
    column: str
    field: str


@strawberry.type(description="One row of a preview: what the import would do with it.")
class ImportRowPreview:
    row: int = strawberry.field(description="The row number as a spreadsheet shows it.")
    action: str = strawberry.field(description="created, updated, failed (or skipped: empty).")
    values: JSON = strawberry.field(description="The row's values by field, as read.")
    errors: list[UserError]


@strawberry.type
class ImportPreview:
    headers: list[str]
    mapping: list[ImportColumn] = strawberry.field(description="The guess, with your changes.")
    fields: list[str] = strawberry.field(description="Every field this entity can import.")
    rows: list[ImportRowPreview]
    errors: list[UserError]


@strawberry.type(description="An import: its counts so far and, when done, its error report.")
class ImportRun:
    id: strawberry.ID
    job_id: strawberry.ID | None
    entity: ImportEntity
    dry_run: bool
    status: str = strawberry.field(
        description="queued, staging, merging, succeeded, failed or cancelled."
    )
    mapping: list[ImportColumn]
    rows_total: int | None
    rows_done: int
    created: int
    updated: int
    failed: int
    error_report_url: str | None = strawberry.field(
        description="GET it (signed in) for a CSV of every failed row: row, column, value, error."
    )
    error: str | None = strawberry.field(
        description="Why the whole run failed or was cancelled (its job's error); per-row errors "
        "are in the error report."
    )
    created_at: datetime.datetime
    finished_at: datetime.datetime | None

    @classmethod
    def from_model(cls, row: RunRow) -> ImportRun:
        return cls(
            id=strawberry.ID(to_global_id(TYPE_NAME, row.id)),
            job_id=strawberry.ID(to_global_id("Job", row.job_id)) if row.job_id else None,
            entity=ImportEntity(row.entity.value),
            dry_run=row.dry_run,
            status=row.status.value,
            mapping=[ImportColumn(column=c, field=_camel(f)) for c, f in row.mapping.items()],
            rows_total=row.rows_total,
            rows_done=row.rows_done,
            created=row.created,
            updated=row.updated,
            failed=row.failed,
            error_report_url=f"/files/{row.error_file_id}" if row.error_file_id else None,
            error=row.error,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.type
class StartImportPayload:
    run: ImportRun | None
    job_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.input
class StartExportInput:
    entity: ExportEntity
    format: ExportFormat = ExportFormat.CSV
    columns: list[str] | None = strawberry.field(
        default=None,
        description="Fields to export (camelCase or snake_case); default a useful set.",
    )
    search: str | None = None
    include_deleted: bool = False
    customer_filter: customer_inputs.CustomerFilter | None = None
    contact_filter: contact_inputs.ContactFilter | None = None
    lead_filter: lead_inputs.LeadFilter | None = None
    product_filter: product_inputs.ProductFilter | None = None
    order_filter: order_inputs.OrderFilter | None = None


@strawberry.type
class StartExportPayload:
    job_id: strawberry.ID | None = strawberry.field(
        description="The job; its result names `fileId` and `url` when it has succeeded."
    )
    errors: list[UserError]


LISTS: dict[str, tuple[ListSpec, str]] = {
    "customer": (CUSTOMERS, "customer_filter"),
    "contact": (CONTACTS, "contact_filter"),
    "lead": (LEADS, "lead_filter"),
    "product": (PRODUCTS, "product_filter"),
    "order": (ORDERS, "order_filter"),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _file_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise DomainError.one("fileId", ErrorCode.NOT_FOUND, "file not found") from None


def _mapping(columns: list[ImportColumnInput] | None) -> dict[str, Any] | None:
    if columns is None:
        return None
    if len(columns) > 200:
        raise DomainError.one("mapping", ErrorCode.LIMIT_EXCEEDED, "at most 200 columns")
    return {c.column: c.field or "" for c in columns}


def _row(r: Any) -> ImportRowPreview:
    action = r.action if (r.errors or r.action != "failed") else "skipped"
    return ImportRowPreview(
        row=r.row_number,
        action=action,
        values=JSON({_camel(k): v for k, v in r.values.items()}),
        errors=user_errors(DomainError(r.errors), prefix="") if r.errors else [],
    )


@strawberry.type
class TransferQueries:
    @strawberry.field(
        description="The first rows of an uploaded file as the import would see them: mapped, "
        "validated and matched (create or update). Nothing is written.",
        extensions=requires(SIGNED_IN),
    )
    async def import_preview(
        self,
        info: Info,
        file_id: str,
        entity: ImportEntity,
        mapping: list[ImportColumnInput] | None = None,
        rows: int = imports.PREVIEW_ROWS,
    ) -> ImportPreview:
        ctx = info.context
        principal = ctx.require_principal()
        fields = [_camel(f) for f in import_mapping.fields_of(Entity(entity.value))]
        try:
            cipher = await ctx.cipher() if ctx.app.keys is not None else None
            async with ctx.tenant_db.transaction() as session:
                result = await imports.preview(
                    session, principal, ctx.settings, _file_id(file_id), entity.value,
                    _mapping(mapping), limit=rows, cipher=cipher,
                )  # fmt: skip
        except DomainError as exc:
            return ImportPreview(
                headers=[], mapping=[], fields=fields, rows=[], errors=user_errors(exc, prefix="")
            )
        return ImportPreview(
            headers=result.headers,
            mapping=[ImportColumn(column=c, field=_camel(f)) for c, f in result.mapping.items()],
            fields=fields,
            rows=[_row(r) for r in result.rows],
            errors=[],
        )

    @strawberry.field(description="One import by id.", extensions=requires(SIGNED_IN))
    async def import_run(self, info: Info, id: strawberry.ID) -> ImportRun | None:
        ctx = info.context

        async def load() -> ImportRun | None:
            _, pk = from_global_id(id, expect=TYPE_NAME)
            async with ctx.tenant_db.read() as session:
                try:
                    row = await imports.get(session, ctx.require_principal(), pk)
                except DomainError:
                    return None
            return ImportRun.from_model(row)

        return await as_graphql_errors(load)


@strawberry.type
class TransferMutations:
    @strawberry.mutation(
        description="Import an uploaded file (a job). Rows are matched on natural keys and "
        "created or updated; failed rows are listed in the run's error report.",
        extensions=requires(SIGNED_IN),
    )
    async def start_import(
        self,
        info: Info,
        file_id: str,
        entity: ImportEntity,
        mapping: list[ImportColumnInput] | None = None,
        dry_run: bool = False,
    ) -> StartImportPayload:
        settings = info.context.settings

        async def work(session: Any, principal: Any) -> RunRow:
            return await imports.start(
                session, principal, settings, _file_id(file_id), entity.value,
                _mapping(mapping), dry_run=dry_run,
            )  # fmt: skip

        done, errors = await run(info, work, prefix="")
        if done is None:
            return StartImportPayload(run=None, job_id=None, errors=errors)
        return StartImportPayload(
            run=ImportRun.from_model(done),
            job_id=strawberry.ID(to_global_id("Job", done.job_id)) if done.job_id else None,
            errors=[],
        )

    @strawberry.mutation(
        description="Export a filtered list to CSV or XLSX (a job), inside your data scope; "
        "phones and e-mails masked if your role does not see personal data.",
        extensions=requires(SIGNED_IN),
    )
    async def start_export(self, info: Info, input: StartExportInput) -> StartExportPayload:
        ctx = info.context
        entity = input.entity.value
        spec, filter_name = LISTS[entity]

        async def work(session: Any, principal: Any) -> Any:
            exports.check_allowed(principal, entity)
            filter_spec = to_spec(getattr(input, filter_name), dict(spec.id_fields))
            if ctx.mask_personal:
                refuse_personal(filter_spec, spec.personal)
            compile_filter(filter_spec, spec.columns)  # the API's own map: same answer as a list
            columns = [import_mapping.snake(c) for c in input.columns] if input.columns else None
            return await exports.start(
                session, principal, entity,
                filter_spec=filter_spec, fmt=input.format.value, columns=columns,
                search=input.search, include_deleted=input.include_deleted,
            )  # fmt: skip

        done, errors = await run(info, work, prefix="input")
        if done is None:
            return StartExportPayload(job_id=None, errors=errors)
        return StartExportPayload(job_id=strawberry.ID(to_global_id("Job", done.id)), errors=[])
