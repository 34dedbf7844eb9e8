"""Segment queries (tenant-bound sessions only): a member sees the company's shared segments and
its own private ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.identity.principal import Principal
from crm_core.query.search import search_predicate
from crm_core.segments.models import Segment


def live() -> ColumnElement[bool]:
    return Segment.deleted_at.is_(None)


def visible(principal: Principal) -> ColumnElement[bool]:
    return or_(Segment.shared.is_(True), Segment.owner_id == principal.user_id)


def writable(principal: Principal) -> ColumnElement[bool]:
    """Its owner changes a segment; a shared one also whoever manages the company's segments."""
    mine = Segment.owner_id == principal.user_id
    if principal.allows("segment:manage"):
        return or_(mine, Segment.shared.is_(True))
    return mine


async def get(
    session: AsyncSession,
    segment_id: uuid.UUID,
    principal: Principal,
    *,
    include_deleted: bool = False,
) -> Segment | None:
    return await records.get(
        session, Segment, segment_id, include_deleted=include_deleted, visible=visible(principal)
    )


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], principal: Principal
) -> Sequence[Segment]:
    return await records.get_many(session, Segment, ids, visible=visible(principal))


def base_select(principal: Principal, *, include_deleted: bool, search: str | None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [visible(principal)]
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(Segment.name, search))
    return select(Segment).where(and_(*conditions))
