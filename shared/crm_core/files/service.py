"""Storing and finding a tenant's files.

Bytes go to ``<files_dir>/<tenant schema>/<file id>`` (``files_dir`` defaults to
``<data_dir>/files``): the folder name comes only from ``schema_for(tenant_id)``, the file name
only from a UUID we made, so nothing a user sends reaches a path. A file is written under a
temporary name and renamed when complete, so a reader never sees half of one. Look-ups go through
the tenant's ``files`` table: another tenant's id is simply not there.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.files.models import FilePurpose, StoredFile
from crm_core.identity.principal import Principal
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef, schema_for

READ = "file:read"
CHUNK = 1 << 16
_UNSAFE = re.compile(r"[^\w.\- ()\u4e00-\u9fff]+")


class TooLarge(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            [FieldError("file", ErrorCode.TOO_LONG, f"files are limited to {limit} bytes")]
        )


def files_root(settings: Settings) -> Path:
    return settings.transfer.files_dir or settings.data_dir / "files"


def path_of(settings: Settings, tenant: TenantRef, file_id: uuid.UUID) -> Path:
    return files_root(settings) / schema_for(tenant.id) / str(uuid.UUID(str(file_id)))


def safe_filename(name: str | None, default: str) -> str:
    """A display name for downloads: no folders, no control characters, bounded."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = _UNSAFE.sub("_", base).strip("._ ")
    return (base or default)[:200]


def _who(principal: Principal) -> uuid.UUID | None:
    return None if principal.user_id.int == 0 else principal.user_id


@dataclass(frozen=True, slots=True)
class Written:
    file_id: uuid.UUID
    path: Path
    size: int
    sha256: str


class FileWriter:
    """Writes one new file of a tenant: ``write()`` pieces, then ``record()`` its row."""

    def __init__(self, settings: Settings, tenant: TenantRef, *, limit: int | None = None) -> None:
        self.file_id = uuid.uuid4()
        self.path = path_of(settings, tenant, self.file_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.file_id}.part")
        self._out: IO[bytes] = open(self._tmp, "wb")  # noqa: SIM115 - closed in finish/abort
        self._hash = hashlib.sha256()
        self.size = 0
        self._limit = limit
        self._direct = True  # False once ``stream`` was handed out

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            self.abort()
            raise TooLarge(self._limit)
        self._hash.update(data)
        self._out.write(data)

    @property
    def stream(self) -> IO[bytes]:
        """The open file, for writers that want a binary stream (openpyxl); hashed at finish."""
        self._direct = False
        return self._out

    def finish(self) -> Written:
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        if self._direct:
            digest = self._hash.hexdigest()
        else:
            digest, self.size = _sha256_of(self._tmp), self._tmp.stat().st_size
        os.replace(self._tmp, self.path)
        return Written(self.file_id, self.path, self.size, digest)

    def abort(self) -> None:
        if not self._out.closed:
            self._out.close()
        self._tmp.unlink(missing_ok=True)


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(CHUNK), b""):
            h.update(piece)
    return h.hexdigest()


def record(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    written: Written,
    *,
    purpose: FilePurpose,
    filename: str,
    content_type: str,
) -> StoredFile:
    row = StoredFile(
        id=written.file_id,
        purpose=purpose,
        filename=safe_filename(filename, str(written.file_id)),
        content_type=content_type[:120],
        size_bytes=written.size,
        sha256=written.sha256,
        created_by=_who(principal),
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.transfer.file_ttl_seconds),
    )
    session.add(row)
    return row


async def save_upload(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    chunks: AsyncIterable[bytes],
    *,
    filename: str | None,
    content_type: str | None,
) -> StoredFile:
    """Stream an upload to disk (never whole in memory), refusing it past the size limit."""
    writer = FileWriter(settings, principal.tenant, limit=settings.transfer.max_upload_bytes)
    try:
        async for piece in chunks:
            if piece:
                writer.write(piece)
    except BaseException:
        writer.abort()
        raise
    if writer.size == 0:
        writer.abort()
        raise DomainError.one("file", ErrorCode.REQUIRED, "the file is empty")
    written = writer.finish()
    row = record(
        session,
        principal,
        settings,
        written,
        purpose=FilePurpose.upload,
        filename=filename or "upload",
        content_type=content_type or "application/octet-stream",
    )
    await session.flush()
    return row


def visible_to(principal: Principal, row: StoredFile) -> bool:
    """Your own files; a company's admins (``job:manage``) see every file of it."""
    return principal.allows("job:manage") or row.created_by == _who(principal)


async def get(session: AsyncSession, principal: Principal, file_id: uuid.UUID) -> StoredFile:
    """The tenant's file, if the principal may see it; else "not found" (same answer for both)."""
    row = (
        await session.execute(select(StoredFile).where(StoredFile.id == file_id))
    ).scalar_one_or_none()
    if row is None or not visible_to(principal, row):
        raise NotFound("file_id", "file")
    return row


@contextmanager
def open_file(settings: Settings, tenant: TenantRef, row: StoredFile) -> Iterator[IO[bytes]]:
    path = path_of(settings, tenant, row.id)
    if not path.exists():
        raise NotFound("file_id", "file")
    with open(path, "rb") as f:
        yield f


def iter_bytes(settings: Settings, tenant: TenantRef, row: StoredFile) -> Iterator[bytes]:
    with open_file(settings, tenant, row) as f:
        yield from iter(lambda: f.read(CHUNK), b"")
