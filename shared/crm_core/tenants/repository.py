"""Queries on the control plane."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.tenants.models import Membership, Tenant, TenantStatus, User


async def get(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def get_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()


async def list_all(session: AsyncSession, *, include_deleted: bool = False) -> Sequence[Tenant]:
    stmt = select(Tenant).order_by(Tenant.created_at, Tenant.id)
    if not include_deleted:
        stmt = stmt.where(Tenant.status != TenantStatus.deleted)
    return (await session.execute(stmt)).scalars().all()


async def provisioned_ids(session: AsyncSession) -> Sequence[uuid.UUID]:
    """Tenants whose schema exists (deleted ones too: their data is kept and migrated)."""
    stmt = select(Tenant.id).where(Tenant.provisioned_at.is_not(None)).order_by(Tenant.id)
    return (await session.execute(stmt)).scalars().all()


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(User.email == email.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def memberships_of(
    session: AsyncSession, user_id: uuid.UUID
) -> Sequence[tuple[Membership, Tenant]]:
    stmt = (
        select(Membership, Tenant)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user_id, Membership.is_active.is_(True))
        .order_by(Tenant.slug)
    )
    return [(m, t) for m, t in (await session.execute(stmt)).all()]


async def users_in_tenant(
    session: AsyncSession, tenant_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> Sequence[User]:
    """Only users who are members of this tenant: an id from elsewhere resolves to nothing."""
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id, User.id.in_(user_ids))
    )
    return (await session.execute(stmt)).scalars().all()


async def is_member(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Works from a tenant-bound session too: core tables carry their schema explicitly."""
    stmt = select(Membership.id).where(
        Membership.tenant_id == tenant_id,
        Membership.user_id == user_id,
        Membership.is_active.is_(True),
    )
    return (await session.execute(stmt)).first() is not None


async def timezone_of(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    """The company's IANA time zone (what "the date" of a timestamp means to its people).
    Works from a tenant-bound session: core tables carry their schema explicitly."""
    stmt = select(Tenant.timezone).where(Tenant.id == tenant_id)
    return (await session.execute(stmt)).scalar_one_or_none() or "UTC"


async def time_zone_of(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    """The company's IANA time zone (calendar buckets, "today")."""
    stmt = select(Tenant.timezone).where(Tenant.id == tenant_id)
    return (await session.execute(stmt)).scalar_one_or_none() or "UTC"


async def settings_of(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any]:
    """The company's settings (product defaults apply where a key is absent).
    Works from a tenant-bound session: core tables carry their schema explicitly."""
    stmt = select(Tenant.settings).where(Tenant.id == tenant_id)
    return (await session.execute(stmt)).scalar_one_or_none() or {}
