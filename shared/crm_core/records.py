"""The lifecycle every tenant record shares: load for writing (with optimistic concurrency),
soft delete, restore, destroy. Domain services call these and add their own rules around them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.base import AuditedMixin
from crm_core.errors import Conflict, NotFound
from crm_core.identity.principal import Principal

R = TypeVar("R", bound=AuditedMixin)


async def get(
    session: AsyncSession, model: type[R], record_id: uuid.UUID, *, include_deleted: bool = False
) -> R | None:
    table: Any = model
    stmt = select(model).where(table.id == record_id)
    if not include_deleted:
        stmt = stmt.where(table.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_for_write(
    session: AsyncSession,
    model: type[R],
    record_id: uuid.UUID,
    expected_version: int | None,
    what: str,
) -> R:
    """A live record, refused with CONFLICT when the caller's version is stale. (SQLAlchemy's
    ``version_id_col`` also guards the race between this read and the write.)"""
    record = await get(session, model, record_id)
    if record is None:
        raise NotFound("id", what)
    if expected_version is not None and expected_version != record.version:
        raise Conflict()
    return record


async def soft_delete(
    session: AsyncSession,
    principal: Principal,
    model: type[R],
    record_id: uuid.UUID,
    *,
    expected_version: int | None,
    what: str,
) -> R:
    record = await get_for_write(session, model, record_id, expected_version, what)
    record.deleted_at = datetime.now(UTC)
    record.updated_by = principal.user_id
    await session.flush()
    return record


async def restore(
    session: AsyncSession, principal: Principal, model: type[R], record_id: uuid.UUID, what: str
) -> R:
    record = await get(session, model, record_id, include_deleted=True)
    if record is None:
        raise NotFound("id", what)
    if record.deleted_at is not None:
        record.deleted_at = None
        record.updated_by = principal.user_id
        await session.flush()
    return record


async def destroy(
    session: AsyncSession, model: type[R], record_id: uuid.UUID, what: str
) -> uuid.UUID:
    """Hard delete; what the database cascades goes with it."""
    table: Any = model
    result = await session.execute(delete(model).where(table.id == record_id).returning(table.id))
    if result.scalar_one_or_none() is None:
        raise NotFound("id", what)
    return record_id
