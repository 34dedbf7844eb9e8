"""Table files: a COPY stream compressed with zstd on the way out, checked on the way in.

Two SHA-256 sums per table: of the compressed file (checked before a restore changes anything, so a
corrupted or truncated file is refused up front) and of the COPY stream itself (checked again while
loading, inside the restore's transaction, so a file that changed after the first check still
cannot be committed).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import zstandard

CHUNK = 1 << 20


class CorruptBackup(Exception):
    """A file does not match its manifest: nothing is loaded from it."""


class TableWriter:
    """The ``output`` callback of ``copy_from_table``: compresses and hashes as the data comes."""

    def __init__(self, path: Path, level: int) -> None:
        self.path = path
        self._file = path.open("wb")
        self._compressor = zstandard.ZstdCompressor(level=level, write_checksum=True).compressobj()
        self._raw = hashlib.sha256()
        self._packed = hashlib.sha256()
        self.raw_bytes = 0
        self.size_bytes = 0

    async def __call__(self, chunk: bytes) -> None:
        self._raw.update(chunk)
        self.raw_bytes += len(chunk)
        self._emit(self._compressor.compress(chunk))

    def _emit(self, data: bytes) -> None:
        if data:
            self._packed.update(data)
            self.size_bytes += len(data)
            self._file.write(data)

    def close(self) -> None:
        if not self._file.closed:
            self._emit(self._compressor.flush())
            self._file.close()

    @property
    def sha256(self) -> str:
        return self._packed.hexdigest()

    @property
    def raw_sha256(self) -> str:
        return self._raw.hexdigest()


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def check_file(path: Path, *, name: str, sha256: str, size: int) -> None:
    actual, actual_size = file_sha256(path)
    if actual_size != size:
        raise CorruptBackup(f"{name}: {actual_size} bytes, the manifest says {size}")
    if actual != sha256:
        raise CorruptBackup(f"{name}: checksum mismatch")


def check_stream(path: Path, *, name: str, raw_sha256: str, raw_bytes: int) -> None:
    """Decompress the whole file and check the COPY stream (``crm backup verify --deep``)."""
    digest = hashlib.sha256()
    total = 0
    try:
        with path.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as reader:
            while block := reader.read(CHUNK):
                digest.update(block)
                total += len(block)
    except zstandard.ZstdError as exc:
        raise CorruptBackup(f"{name}: cannot decompress ({exc})") from exc
    if total != raw_bytes or digest.hexdigest() != raw_sha256:
        raise CorruptBackup(f"{name}: its data does not match the manifest")


async def read_stream(path: Path, *, name: str, raw_sha256: str) -> AsyncIterator[bytes]:
    """The COPY stream of a table file, for ``copy_to_table``. Raises ``CorruptBackup`` at the
    end (inside the load's transaction) if it is not the stream that was backed up."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as reader:
            while block := reader.read(CHUNK):
                digest.update(block)
                yield block
    except zstandard.ZstdError as exc:
        raise CorruptBackup(f"{name}: cannot decompress ({exc})") from exc
    if digest.hexdigest() != raw_sha256:
        raise CorruptBackup(f"{name}: its data does not match the manifest")
