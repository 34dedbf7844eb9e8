"""Import runs, their per-row errors and the staging table the file is COPYed into.

``import_staging`` is UNLOGGED: it holds a copy of the uploaded file's cells (one JSON array per
row), which the job can always rebuild from the file, so it need not cost WAL; it survives a
worker's death (a TEMP table would not), so the next attempt resumes after the last merged chunk.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import IdMixin, TenantBase, str_enum


class ImportEntity(enum.StrEnum):
    customer = "customer"
    contact = "contact"
    lead = "lead"
    product = "product"
    order = "order"


class ImportStatus(enum.StrEnum):
    queued = "queued"
    staging = "staging"
    merging = "merging"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class ImportRun(IdMixin, TenantBase):
    __tablename__ = "import_runs"

    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    file_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("files.id", ondelete="CASCADE"), nullable=False
    )
    entity: Mapped[ImportEntity] = mapped_column(
        str_enum(ImportEntity, "import_entity"), nullable=False
    )
    # {"<column header>": "<field>"}, as guessed and adjusted; fixed when the run starts.
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[ImportStatus] = mapped_column(
        str_enum(ImportStatus, "import_status"), nullable=False, default=ImportStatus.queued
    )
    staged: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The file row number merged last: a new attempt resumes after it.
    last_row_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error_file_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("files.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "rows_done >= 0 AND created >= 0 AND updated >= 0 AND failed >= 0",
            name="counts_non_negative",
        ),
        Index("ix_import_runs_created_at_id", "created_at", "id"),
        Index("ix_import_runs_job_id", "job_id"),
    )


class ImportRowError(TenantBase):
    __tablename__ = "import_errors"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("import_runs.id", ondelete="CASCADE"), nullable=False
    )
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    column: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index("ix_import_errors_run_id_row_number", "run_id", "row_number"),)


class ImportStagingRow(TenantBase):
    __tablename__ = "import_staging"

    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    cells: Mapped[list[Any]] = mapped_column(JSONB, nullable=False)

    __table_args__ = ({"prefixes": ["UNLOGGED"]},)
