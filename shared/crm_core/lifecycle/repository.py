"""Lifecycle history queries: an event is visible while its customer is live and in the
principal's data scope (it is the customer's history, so the customer's scope rules)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm_core.customers import repository as customers_repo
from crm_core.identity.principal import DataScope
from crm_core.lifecycle.models import CustomerLifecycleEvent as Event

PER_CUSTOMER_LIMIT = 100
ORDER = (Event.changed_at.desc(), Event.id.desc())


def visible(scope: DataScope | None) -> ColumnElement[bool]:
    return Event.customer_id.in_(customers_repo.visible_ids(scope))


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[Event]:
    stmt = select(Event).where(Event.id.in_(ids), visible(scope))
    return (await session.execute(stmt)).scalars().all()


async def by_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, limit: int = PER_CUSTOMER_LIMIT
) -> dict[uuid.UUID, list[Event]]:
    """The latest ``limit`` events of many customers in one statement (a window function).
    The caller passes ids of customers it may see (a loaded Customer), so no scope here."""
    ranked = (
        select(
            Event,
            func.row_number()
            .over(partition_by=Event.customer_id, order_by=list(ORDER))
            .label("rn"),
        )
        .where(Event.customer_id.in_(customer_ids))
        .subquery()
    )
    row = aliased(Event, ranked)
    stmt = select(row).where(ranked.c.rn <= limit).order_by(ranked.c.customer_id, ranked.c.rn)
    grouped: dict[uuid.UUID, list[Event]] = {cid: [] for cid in customer_ids}
    for event in (await session.execute(stmt)).scalars():
        grouped[event.customer_id].append(event)
    return grouped


def base_select(*, scope: DataScope | None = None) -> Select[Any]:
    """The list query before filters and paging."""
    return select(Event).where(visible(scope))
