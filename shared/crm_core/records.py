"""The lifecycle every tenant record shares: load for writing (with optimistic concurrency),
soft delete, restore, destroy. Domain services call these and add their own rules around them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm_core.audit import service as audit
from crm_core.db.base import AuditedMixin
from crm_core.errors import Conflict, DomainError, ErrorCode, NotFound
from crm_core.identity.principal import Principal
from crm_core.tenants.repository import is_member

R = TypeVar("R", bound=AuditedMixin)


async def get(
    session: AsyncSession,
    model: type[R],
    record_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    visible: ColumnElement[bool] | None = None,
) -> R | None:
    """``visible`` is the caller's data-scope condition: outside it, a record does not exist."""
    table: Any = model
    stmt = select(model).where(table.id == record_id)
    if visible is not None:
        stmt = stmt.where(visible)
    if not include_deleted:
        stmt = stmt.where(table.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_many(
    session: AsyncSession,
    model: type[R],
    ids: Sequence[uuid.UUID],
    *,
    visible: ColumnElement[bool] | None = None,
) -> Sequence[R]:
    """Live records among ``ids`` (in no particular order), within ``visible``."""
    table: Any = model
    stmt = select(model).where(table.id.in_(ids), table.deleted_at.is_(None))
    if visible is not None:
        stmt = stmt.where(visible)
    return (await session.execute(stmt)).scalars().all()


async def by_parents(
    session: AsyncSession,
    model: type[R],
    parent: Any,
    parent_ids: Sequence[uuid.UUID],
    *,
    order_by: Sequence[Any],
    limit: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> dict[uuid.UUID, list[R]]:
    """Live children of many parents in one statement, at most ``limit`` per parent, each
    parent's in ``order_by`` order (a window function: a page of parents costs one statement,
    and one parent with thousands of children cannot swell it). ``where`` narrows the children
    (e.g. only open opportunities) before the limit applies."""
    table: Any = model
    ranked = (
        select(
            model,
            func.row_number().over(partition_by=parent, order_by=list(order_by)).label("rn"),
        )
        .where(parent.in_(parent_ids), table.deleted_at.is_(None), *where)
        .subquery()
    )
    row = aliased(model, ranked)
    key = parent.key
    stmt = select(row).where(ranked.c.rn <= limit).order_by(ranked.c[key], ranked.c.rn)
    grouped: dict[uuid.UUID, list[R]] = {pid: [] for pid in parent_ids}
    for child in (await session.execute(stmt)).scalars():
        grouped[getattr(child, key)].append(child)
    return grouped


async def check_member(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID | None, field: str
) -> None:
    """A user a record points to (owner, staff) stays inside the tenant: a member of this company,
    and covered by the writer's data scope (a sales rep can neither hand a record to a stranger
    and so lose it, nor plant records on others). None is the shared pool: ``all`` scope only."""
    if user_id is None:
        if not principal.data_scope.covers_owner(None):
            raise DomainError.one(field, ErrorCode.FORBIDDEN, "only your own records")
        return
    if not await is_member(session, principal.tenant.id, user_id):
        raise DomainError.one(field, ErrorCode.NOT_FOUND, "no such user in this company")
    if not principal.data_scope.covers_owner(user_id):
        raise DomainError.one(field, ErrorCode.FORBIDDEN, "outside the records you manage")


async def get_for_write(
    session: AsyncSession,
    model: type[R],
    record_id: uuid.UUID,
    expected_version: int | None,
    what: str,
    *,
    visible: ColumnElement[bool] | None = None,
) -> R:
    """A live record, refused with CONFLICT when the caller's version is stale. (SQLAlchemy's
    ``version_id_col`` also guards the race between this read and the write.)"""
    record = await get(session, model, record_id, visible=visible)
    if record is None:
        raise NotFound("id", what)
    if expected_version is not None and expected_version != record.version:
        raise Conflict()
    return record


async def apply_update(
    session: AsyncSession,
    principal: Principal,
    record: R,
    fields: dict[str, Any],
    what: str,
    *,
    refresh: Callable[[R], None] | None = None,
    flush: Callable[[AsyncSession], Awaitable[None]] | None = None,
    extra_changes: dict[str, Any] | None = None,
) -> R:
    """Write validated ``fields`` into ``record`` and audit exactly what changed.

    ``refresh`` recomputes derived columns (search texts) after the new values are in;
    ``flush`` replaces ``session.flush`` where a service maps constraint errors to field errors.
    """
    before = audit.snapshot(record)
    for name, value in fields.items():
        setattr(record, name, value)
    record.updated_by = principal.user_id
    if refresh is not None:
        refresh(record)
    await (flush(session) if flush is not None else session.flush())
    changes = audit.diff(before, audit.snapshot(record)) | (extra_changes or {})
    record_id: uuid.UUID = getattr(record, "id")  # noqa: B009 - every tenant record has an id
    audit.record(session, principal, "update", what, record_id, changes)
    return record


async def soft_delete(
    session: AsyncSession,
    principal: Principal,
    model: type[R],
    record_id: uuid.UUID,
    *,
    expected_version: int | None,
    what: str,
    visible: ColumnElement[bool] | None = None,
) -> R:
    record = await get_for_write(session, model, record_id, expected_version, what, visible=visible)
    record.deleted_at = datetime.now(UTC)
    record.updated_by = principal.user_id
    await session.flush()
    audit.record(
        session,
        principal,
        "delete",
        what,
        record_id,
        {"deleted_at": [None, audit.plain(record.deleted_at)]},
    )
    return record


async def restore(
    session: AsyncSession,
    principal: Principal,
    model: type[R],
    record_id: uuid.UUID,
    what: str,
    *,
    visible: ColumnElement[bool] | None = None,
) -> R:
    record = await get(session, model, record_id, include_deleted=True, visible=visible)
    if record is None:
        raise NotFound("id", what)
    if record.deleted_at is not None:
        before = audit.plain(record.deleted_at)
        record.deleted_at = None
        record.updated_by = principal.user_id
        await session.flush()
        audit.record(session, principal, "restore", what, record_id, {"deleted_at": [before, None]})
    return record


async def destroy(
    session: AsyncSession,
    principal: Principal,
    model: type[R],
    record_id: uuid.UUID,
    what: str,
    *,
    visible: ColumnElement[bool] | None = None,
) -> uuid.UUID:
    """Hard delete; what the database cascades goes with it. The audit entry keeps the last
    values, so a destroyed record can still be accounted for."""
    record = await get(session, model, record_id, include_deleted=True, visible=visible)
    if record is None:
        raise NotFound("id", what)
    last = audit.snapshot(record)
    table: Any = model
    await session.execute(delete(model).where(table.id == record_id))
    audit.record(session, principal, "destroy", what, record_id, {"before": last})
    return record_id


class Lifecycle(Generic[R]):
    """Soft delete, restore and destroy of one model, inside what the principal may see: the
    three wrappers a service would otherwise write out again. A service exposes the bound
    methods as its own functions (``soft_delete = _lifecycle.soft_delete``) and writes by hand
    only the verbs that add rules of their own (a number that must stay unique on restore)."""

    def __init__(
        self,
        model: type[R],
        what: str,
        visible: Callable[[Principal], ColumnElement[bool]] | None = None,
    ) -> None:
        self.model = model
        self.what = what
        self._visible = visible

    def visible(self, principal: Principal) -> ColumnElement[bool] | None:
        return self._visible(principal) if self._visible is not None else None

    async def soft_delete(
        self,
        session: AsyncSession,
        principal: Principal,
        record_id: uuid.UUID,
        *,
        expected_version: int | None,
    ) -> R:
        return await soft_delete(
            session,
            principal,
            self.model,
            record_id,
            expected_version=expected_version,
            what=self.what,
            visible=self.visible(principal),
        )

    async def restore(self, session: AsyncSession, principal: Principal, record_id: uuid.UUID) -> R:
        return await restore(
            session, principal, self.model, record_id, self.what, visible=self.visible(principal)
        )

    async def destroy(
        self, session: AsyncSession, principal: Principal, record_id: uuid.UUID
    ) -> uuid.UUID:
        return await destroy(
            session, principal, self.model, record_id, self.what, visible=self.visible(principal)
        )
