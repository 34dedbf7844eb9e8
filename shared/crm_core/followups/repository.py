"""Follow-up queries (tenant-bound sessions only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers import repository as customers_repo
from crm_core.followups.models import FollowUp
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate

PER_CUSTOMER_LIMIT = 100


def live() -> ColumnElement[bool]:
    return FollowUp.deleted_at.is_(None)


def visible(scope: DataScope | None) -> ColumnElement[bool]:
    """A follow-up is visible while its customer is live and in the scope."""
    return FollowUp.customer_id.in_(customers_repo.visible_ids(scope))


async def get(
    session: AsyncSession,
    follow_up_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    scope: DataScope | None = None,
) -> FollowUp | None:
    return await records.get(
        session,
        FollowUp,
        follow_up_id,
        include_deleted=include_deleted,
        visible=visible(scope),
    )


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[FollowUp]:
    return await records.get_many(session, FollowUp, ids, visible=visible(scope))


async def by_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, limit: int = PER_CUSTOMER_LIMIT
) -> dict[uuid.UUID, list[FollowUp]]:
    """Live follow-ups of many customers in one statement, latest first, ``limit`` each."""
    return await records.by_parents(
        session,
        FollowUp,
        FollowUp.customer_id,
        customer_ids,
        order_by=(FollowUp.scheduled_at.desc(), FollowUp.id.desc()),
        limit=limit,
    )


def base_select(
    *, include_deleted: bool, search: str | None, scope: DataScope | None = None
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [visible(scope)]
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(FollowUp.search_text, search))
    return select(FollowUp).where(and_(*conditions))
