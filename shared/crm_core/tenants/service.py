"""Tenant lifecycle: create (idempotent, race-safe), suspend, resume, delete (recoverable), purge."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from crm_core.db import admin, migrate
from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode, NotFound
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository
from crm_core.tenants.models import Tenant, TenantStatus

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DEFAULT_SETTINGS: dict[str, object] = {
    "funnel": ["qualify", "needs_analysis", "proposal", "negotiation", "won", "lost"],
    "pool_reclaim_days": 30,
}


@dataclass(frozen=True, slots=True)
class TenantInput:
    slug: str
    name: str
    plan: str = "standard"
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"


def validate_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.fullmatch(slug):
        raise DomainError.one(
            "slug", ErrorCode.INVALID, "use 1-63 lower-case letters, digits and inner hyphens"
        )
    return slug


async def create(db: Database, data: TenantInput) -> tuple[Tenant, bool]:
    """Create the tenant row, its schema and its tables. Returns (tenant, created).

    Safe to repeat and to run twice at once: the row is claimed under an advisory lock on the
    slug; a tenant left half-made by a crash (row without ``provisioned_at``) is finished.
    """
    slug = validate_slug(data.slug)
    if not data.name.strip():
        raise DomainError.one("name", ErrorCode.REQUIRED, "a tenant needs a name")
    async with db.core_transaction() as session:
        await admin.advisory_xact_lock(session, admin.lock_key("tenant-slug", slug))
        tenant = await repository.get_by_slug(session, slug)
        created = tenant is None
        if tenant is None:
            tenant = Tenant(
                slug=slug,
                name=data.name.strip(),
                plan=data.plan,
                locale=data.locale,
                timezone=data.timezone,
                currency=data.currency,
                settings=dict(DEFAULT_SETTINGS),
                quotas={},
            )
            session.add(tenant)
            await session.flush()
    if tenant.provisioned_at is None:
        await migrate.upgrade_tenant(db.engine, tenant.id)
        async with db.core_transaction() as session:
            row = await session.get(Tenant, tenant.id)
            assert row is not None
            row.provisioned_at = datetime.now(UTC)
            tenant = row
    return tenant, created


async def _get_or_raise(db: Database, slug: str) -> Tenant:
    async with db.core_session() as session:
        tenant = await repository.get_by_slug(session, slug)
    if tenant is None:
        raise NotFound("slug", "tenant")
    return tenant


async def set_status(db: Database, slug: str, status: TenantStatus) -> Tenant:
    tenant = await _get_or_raise(db, slug)
    now = datetime.now(UTC)
    async with db.core_transaction() as session:
        row = await session.get(Tenant, tenant.id, with_for_update=True)
        assert row is not None
        row.status = status
        row.suspended_at = now if status is TenantStatus.suspended else None
        row.deleted_at = now if status is TenantStatus.deleted else None
        return row


async def purge(db: Database, slug: str, *, confirm: str) -> None:
    """Drop the schema and the row. Irreversible: ``confirm`` must repeat the slug."""
    tenant = await _get_or_raise(db, slug)
    if confirm != tenant.slug:
        raise DomainError.one(
            "confirm", ErrorCode.INVALID, "type the tenant's slug to confirm the purge"
        )
    if tenant.status is not TenantStatus.deleted:
        raise DomainError.one("slug", ErrorCode.INVALID, "delete the tenant before purging it")
    await admin.drop_tenant_schema(db.engine, tenant.id)
    async with db.core_transaction() as session:
        await session.execute(delete(Tenant).where(Tenant.id == tenant.id))


async def active_ref(db: Database, tenant_id: uuid.UUID) -> TenantRef | None:
    """The tenant, if it exists, is provisioned and active; else None (callers refuse the work)."""
    async with db.core_session() as session:
        row = (
            await session.execute(
                select(Tenant.id, Tenant.slug, Tenant.status, Tenant.provisioned_at).where(
                    Tenant.id == tenant_id
                )
            )
        ).one_or_none()
    if row is None or row.status is not TenantStatus.active or row.provisioned_at is None:
        return None
    return TenantRef(id=row.id, slug=row.slug)
