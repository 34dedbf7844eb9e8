"""Where backup files live: a local folder (default) or S3-compatible object storage.

A backup is a set of files under one *location*, a URI kept in the catalogue:
``file:///abs/dir/tenants/<tenant>/<backup>`` or ``s3://bucket/prefix/tenants/<tenant>/<backup>``.
The backend that reads a backup is chosen from its location, not from today's settings, so
changing ``CRM_BACKUPS__STORAGE`` never strands older backups (S3 credentials and endpoint still
come from the settings). ``manifest.json`` is always written last: a location without it is an
unfinished backup.

boto3 is synchronous: its calls run in a thread so the event loop keeps serving other work.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from crm_core.settings import Settings

MANIFEST = "manifest.json"


class Storage(Protocol):
    kind: str

    def location_for(self, tenant_id: uuid.UUID, backup_id: uuid.UUID) -> str: ...

    async def put_file(self, location: str, name: str, path: Path) -> None: ...

    async def put_bytes(self, location: str, name: str, data: bytes) -> None: ...

    async def get_bytes(self, location: str, name: str) -> bytes: ...

    async def fetch(self, location: str, name: str, workdir: Path) -> Path:
        """A local path holding the file (the file itself for local storage, else a download)."""
        ...

    async def delete(self, location: str) -> None: ...


class StorageError(Exception):
    """A backup's file is missing or unreadable."""


def _relative(tenant_id: uuid.UUID, backup_id: uuid.UUID) -> str:
    return f"tenants/{tenant_id}/{backup_id}"


class LocalStorage:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def location_for(self, tenant_id: uuid.UUID, backup_id: uuid.UUID) -> str:
        return (self.root / _relative(tenant_id, backup_id)).as_uri()

    @staticmethod
    def _dir(location: str) -> Path:
        parsed = urlparse(location)
        if parsed.scheme != "file":
            raise StorageError(f"not a local location: {location}")
        return Path(unquote(parsed.path))

    async def put_file(self, location: str, name: str, path: Path) -> None:
        target = self._dir(location)
        await asyncio.to_thread(_move_into, path, target, name)

    async def put_bytes(self, location: str, name: str, data: bytes) -> None:
        target = self._dir(location)
        await asyncio.to_thread(_write_atomically, target, name, data)

    async def get_bytes(self, location: str, name: str) -> bytes:
        path = self._dir(location) / name
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise StorageError(f"cannot read {name}: {exc.strerror}") from exc

    async def fetch(self, location: str, name: str, workdir: Path) -> Path:
        path = self._dir(location) / name
        if not path.is_file():
            raise StorageError(f"{name} is missing")
        return path

    async def delete(self, location: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._dir(location), True)


def _move_into(path: Path, target: Path, name: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    # Same filesystem when the staging folder is under the root: a rename, not a copy.
    shutil.move(str(path), str(target / name))


def _write_atomically(target: Path, name: str, data: bytes) -> None:
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f".{name}.tmp"
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(target / name)


class S3Storage:
    kind = "s3"

    def __init__(self, settings: Settings) -> None:
        cfg = settings.backups
        self.bucket = cfg.s3_bucket or ""
        self.prefix = cfg.s3_prefix.strip("/")
        self._settings = settings
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            cfg = self._settings.backups
            self._client = boto3.client(
                "s3",
                endpoint_url=cfg.s3_endpoint_url,
                region_name=cfg.s3_region,
                aws_access_key_id=cfg.s3_access_key_id.get_secret_value()
                if cfg.s3_access_key_id
                else None,
                aws_secret_access_key=cfg.s3_secret_access_key.get_secret_value()
                if cfg.s3_secret_access_key
                else None,
                config=Config(
                    s3={"addressing_style": "path"},
                    retries={"max_attempts": 5, "mode": "standard"},
                    # Checksums on every request where the server supports them.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        return self._client

    def location_for(self, tenant_id: uuid.UUID, backup_id: uuid.UUID) -> str:
        if not self.bucket:
            raise StorageError("CRM_BACKUPS__S3_BUCKET is not set")
        key = "/".join(p for p in (self.prefix, _relative(tenant_id, backup_id)) if p)
        return f"s3://{self.bucket}/{key}"

    @staticmethod
    def _split(location: str) -> tuple[str, str]:
        parsed = urlparse(location)
        if parsed.scheme != "s3":
            raise StorageError(f"not an S3 location: {location}")
        return parsed.netloc, parsed.path.lstrip("/")

    async def put_file(self, location: str, name: str, path: Path) -> None:
        bucket, key = self._split(location)
        # upload_file switches to a multipart upload for big files, in parallel parts.
        await asyncio.to_thread(self.client().upload_file, str(path), bucket, f"{key}/{name}")
        await asyncio.to_thread(path.unlink, True)

    async def put_bytes(self, location: str, name: str, data: bytes) -> None:
        bucket, key = self._split(location)
        await asyncio.to_thread(
            self.client().put_object, Bucket=bucket, Key=f"{key}/{name}", Body=data
        )

    async def get_bytes(self, location: str, name: str) -> bytes:
        bucket, key = self._split(location)

        def read() -> bytes:
            try:
                body = self.client().get_object(Bucket=bucket, Key=f"{key}/{name}")["Body"]
                return bytes(body.read())
            except Exception as exc:
                raise StorageError(f"cannot read {name}: {exc}") from exc

        return await asyncio.to_thread(read)

    async def fetch(self, location: str, name: str, workdir: Path) -> Path:
        bucket, key = self._split(location)
        dest = workdir / name

        def download() -> None:
            try:
                self.client().download_file(bucket, f"{key}/{name}", str(dest))
            except Exception as exc:
                raise StorageError(f"cannot read {name}: {exc}") from exc

        await asyncio.to_thread(download)
        return dest

    async def delete(self, location: str) -> None:
        bucket, key = self._split(location)

        def remove() -> None:
            client = self.client()
            paginator = client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=f"{key}/"):
                objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if objects:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": objects})

        await asyncio.to_thread(remove)


def local_root(settings: Settings) -> Path:
    return settings.backups.local_dir or (settings.data_dir / "backups")


def default_storage(settings: Settings) -> Storage:
    """Where new backups go."""
    if settings.backups.storage == "s3":
        return S3Storage(settings)
    return LocalStorage(local_root(settings))


def storage_for(settings: Settings, location: str) -> Storage:
    """The backend that holds an existing backup, from its location."""
    scheme = urlparse(location).scheme
    if scheme == "s3":
        return S3Storage(settings)
    if scheme == "file":
        return LocalStorage(local_root(settings))
    raise StorageError(f"unknown backup location {location!r}")


def staging_dir(settings: Settings) -> Path:
    """Scratch space for files being written or downloaded; under the local root so a local
    backup's files are renamed into place rather than copied."""
    path = local_root(settings) / ".staging"
    path.mkdir(parents=True, exist_ok=True)
    return path
