"""Pool queries (tenant-bound sessions only). The pool is every live customer without an owner;
who may see it is a permission (``customer:claim``), not a data scope: that is what a pool is."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.customers.models import Customer
from crm_core.followups.models import FollowUp
from crm_core.interactions.models import Interaction
from crm_core.query.search import search_predicate


def in_pool() -> ColumnElement[bool]:
    return and_(Customer.owner_id.is_(None), Customer.deleted_at.is_(None))


def base_select(*, search: str | None, personal_data: bool = True) -> Select[Any]:
    """The pool list before filters and paging (served by ix_customers_pool_entered_at_id).
    Without ``personal_data`` the search runs on the text that holds no phone or e-mail."""
    conditions: list[ColumnElement[bool]] = [in_pool()]
    if search:
        column = Customer.search_text if personal_data else Customer.search_public
        conditions.append(search_predicate(column, search))
    return select(Customer).where(and_(*conditions))


async def live_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Customer]:
    """Live customers among ``ids``, whoever owns them (the claim decides per item)."""
    stmt = select(Customer).where(Customer.id.in_(ids), Customer.deleted_at.is_(None))
    return {c.id: c for c in (await session.execute(stmt)).scalars()}


async def owned_count(session: AsyncSession, owner_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(Customer.owner_id == owner_id, Customer.deleted_at.is_(None))
    return int((await session.execute(stmt)).scalar_one())


def stale_select(cutoff: datetime, limit: int) -> Select[uuid.UUID, uuid.UUID | None]:
    """Owned live customers with no activity since ``cutoff``: neither an interaction that
    occurred, nor a follow-up scheduled or done, since then; nor created or claimed since then
    (a customer just taken gets its full period). Locked, skipping rows a request is writing:
    those are active by definition and the next run sees them again."""
    recent_interaction = exists().where(
        Interaction.customer_id == Customer.id,
        Interaction.deleted_at.is_(None),
        Interaction.occurred_at >= cutoff,
    )
    recent_follow_up = exists().where(
        FollowUp.customer_id == Customer.id,
        FollowUp.deleted_at.is_(None),
        func.coalesce(FollowUp.done_at, FollowUp.scheduled_at) >= cutoff,
    )
    return (
        select(Customer.id, Customer.owner_id)
        .where(
            Customer.owner_id.is_not(None),
            Customer.deleted_at.is_(None),
            func.coalesce(Customer.claimed_at, Customer.created_at) < cutoff,
            ~recent_interaction,
            ~recent_follow_up,
        )
        .order_by(Customer.id)
        .limit(limit)
        .with_for_update(of=Customer, skip_locked=True)
    )
