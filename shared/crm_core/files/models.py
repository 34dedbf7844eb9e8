"""The ``files`` table (tenant schema): what a tenant uploaded or a job produced.

The bytes live on disk under ``<files_dir>/<tenant schema>/<file id>``; the row is the index and
the authority: a file id of another tenant has no row here, so it does not exist.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import IdMixin, TenantBase, str_enum


class FilePurpose(enum.StrEnum):
    upload = "upload"  # sent by a user to be imported
    import_errors = "import_errors"  # the per-row error report of an import
    export = "export"  # a list exported by a job


class StoredFile(IdMixin, TenantBase):
    __tablename__ = "files"

    purpose: Mapped[FilePurpose] = mapped_column(
        str_enum(FilePurpose, "file_purpose"), nullable=False
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # A member of the tenant (core.users; no foreign key across schemas).
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size_non_negative"),
        Index("ix_files_created_by_created_at", "created_by", "created_at"),
        Index("ix_files_expires_at", "expires_at"),
    )
