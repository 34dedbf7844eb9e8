"""Interaction queries (tenant-bound sessions only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers import repository as customers_repo
from crm_core.identity.principal import DataScope
from crm_core.interactions.models import Interaction
from crm_core.query.search import search_predicate

PER_CUSTOMER_LIMIT = 100


def live() -> ColumnElement[bool]:
    return Interaction.deleted_at.is_(None)


def visible(scope: DataScope | None) -> ColumnElement[bool]:
    """An interaction is visible while its customer is live and in the scope."""
    return Interaction.customer_id.in_(customers_repo.visible_ids(scope))


async def get(
    session: AsyncSession,
    interaction_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    scope: DataScope | None = None,
) -> Interaction | None:
    return await records.get(
        session,
        Interaction,
        interaction_id,
        include_deleted=include_deleted,
        visible=visible(scope),
    )


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[Interaction]:
    return await records.get_many(session, Interaction, ids, visible=visible(scope))


async def by_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, limit: int = PER_CUSTOMER_LIMIT
) -> dict[uuid.UUID, list[Interaction]]:
    """Live interactions of many customers in one statement, latest first, ``limit`` each."""
    return await records.by_parents(
        session,
        Interaction,
        Interaction.customer_id,
        customer_ids,
        order_by=(Interaction.occurred_at.desc(), Interaction.id.desc()),
        limit=limit,
    )


def base_select(
    *, include_deleted: bool, search: str | None, scope: DataScope | None = None
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [visible(scope)]
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(Interaction.search_text, search))
    return select(Interaction).where(and_(*conditions))
