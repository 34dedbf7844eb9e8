"""The manifest of a backup, and a tenant's backup policy (tenant settings key ``backup``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm_core.settings import BackupSettings

FORMAT: Literal["crm-tenant-backup"] = "crm-tenant-backup"
FORMAT_VERSION = 1
SETTING = "backup"


class ManifestColumn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    type: str


class ManifestTable(BaseModel):
    """One table file: ``COPY … TO STDOUT (FORMAT binary)`` compressed with zstd."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    file: str
    columns: list[ManifestColumn]
    rows: int
    size_bytes: int  # of the compressed file
    raw_bytes: int  # of the COPY stream
    sha256: str  # of the compressed file: checked before anything is loaded
    raw_sha256: str  # of the COPY stream: checked again while it is loaded


class ManifestTenant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: uuid.UUID
    slug: str
    name: str
    locale: str
    timezone: str
    currency: str
    plan: str
    settings: dict[str, Any]
    # The tenant's data key, wrapped by the master key (base64; null if it never had one): the
    # encrypted columns of the backup can be read only with it, also after the tenant is purged.
    data_key_wrapped: str | None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["crm-tenant-backup"] = FORMAT
    format_version: int = FORMAT_VERSION
    backup_id: uuid.UUID
    created_at: datetime
    tenant: ManifestTenant
    schema_revision: str
    postgres_version: str
    compression: Literal["zstd"] = "zstd"
    copy_format: Literal["binary"] = "binary"
    tables: list[ManifestTable]  # in dependency order: parents first
    sequences: list[dict[str, Any]]
    row_count: int
    size_bytes: int


class BackupPolicy(BaseModel):
    """``enabled``: the scheduler makes one backup per period. Retention keeps a backup if either
    rule does (and always the newest good one): ``keep_daily`` — the newest backup of each of the
    last N days that have one; ``keep_days`` — every backup younger than N days."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = True
    keep_daily: Annotated[int, Field(ge=0, le=3650)] = 7
    keep_days: Annotated[int, Field(ge=0, le=3650)] = 7


def policy_from(tenant_settings: dict[str, Any], defaults: BackupSettings) -> BackupPolicy:
    """The tenant's stored policy over the deployment's defaults; a malformed value is ignored."""
    base = {"keep_daily": defaults.keep_daily, "keep_days": defaults.keep_days}
    stored = tenant_settings.get(SETTING)
    if isinstance(stored, dict):
        try:
            return BackupPolicy.model_validate({**base, **stored})
        except ValidationError:
            pass
    return BackupPolicy.model_validate(base)
