"""The backup catalogue, in the control plane (``core.backups``).

The catalogue outlives the tenant's schema (a purged tenant's backups can still be restored into a
new tenant), so it lives in ``core`` and refers to the tenant by id without a foreign key.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, Uuid, column, func
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import CoreBase, IdMixin, str_enum


class BackupStatus(enum.StrEnum):
    queued = "queued"  # asked for; a worker has not started it
    running = "running"  # being written; a backup killed here never becomes ``succeeded``
    succeeded = "succeeded"  # complete, manifest written last, checksums recorded
    failed = "failed"  # gave up (the error says why); its files were removed
    deleted = "deleted"  # pruned by retention (or by hand); its files were removed


class Backup(IdMixin, CoreBase):
    __tablename__ = "backups"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # The tenant's slug when the backup was made (the tenant may be gone when it is restored).
    tenant_slug: Mapped[str] = mapped_column(String(63), nullable=False)
    storage: Mapped[str] = mapped_column(String(16), nullable=False)  # "local" | "s3"
    # Where the files are: ``file:///abs/dir`` or ``s3://bucket/prefix`` (no trailing slash).
    location: Mapped[str] = mapped_column(String(1024), nullable=False)
    status: Mapped[BackupStatus] = mapped_column(
        str_enum(BackupStatus, "backup_status"), nullable=False, default=BackupStatus.queued
    )
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    tables: Mapped[int | None] = mapped_column(Integer)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 (hex) of manifest.json: the manifest holds every table file's checksum in turn.
    checksum: Mapped[str | None] = mapped_column(String(64))
    schema_revision: Mapped[str | None] = mapped_column(String(64))
    # "manual" (an admin or operator asked) or "scheduled".
    trigger: Mapped[str] = mapped_column(String(16), nullable=False, default="manual")
    # One scheduled backup per tenant and period, however often the message is delivered.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    # Not pruned before this instant (retention may keep it longer, as one of the daily ones).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_backups_tenant_id_created_at", "tenant_id", "created_at"),
        Index(
            "uq_backups_tenant_id_idempotency_key",
            "tenant_id",
            "idempotency_key",
            unique=True,
            postgresql_where=column("idempotency_key").is_not(None),
        ),
    )
