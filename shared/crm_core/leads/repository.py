"""Lead queries (tenant-bound sessions only). ``scope`` narrows every lookup by the lead's owner, as
for customers; None means the whole tenant (background work acting as the system)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm_core import records
from crm_core.identity.principal import DataScope
from crm_core.leads.models import Lead
from crm_core.query.search import search_predicate


def live() -> ColumnElement[bool]:
    return Lead.deleted_at.is_(None)


def visible(scope: DataScope | None) -> ColumnElement[bool]:
    condition = scope.owner_condition(Lead.owner_id) if scope is not None else None
    return condition if condition is not None else true()


async def get(
    session: AsyncSession,
    lead_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    scope: DataScope | None = None,
) -> Lead | None:
    return await records.get(
        session, Lead, lead_id, include_deleted=include_deleted, visible=visible(scope)
    )


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[Lead]:
    return await records.get_many(session, Lead, ids, visible=visible(scope))


def base_select(
    *,
    include_deleted: bool,
    search: str | None,
    scope: DataScope | None = None,
    personal_data: bool = True,
) -> Select[Any]:
    """Without ``personal_data`` the search runs on text holding no phone or e-mail."""
    conditions: list[ColumnElement[bool]] = [visible(scope)]
    if not include_deleted:
        conditions.append(live())
    if search:
        column = Lead.search_text if personal_data else Lead.search_public
        conditions.append(search_predicate(column, search))
    return select(Lead).where(and_(*conditions))


async def by_converted_customers(
    session: AsyncSession,
    customer_ids: Sequence[uuid.UUID],
    *,
    limit: int,
    scope: DataScope | None = None,
) -> dict[uuid.UUID, list[Lead]]:
    """Live leads converted into each customer, latest conversion first, at most ``limit`` each,
    within ``scope``: one statement for a page of customers (a window function per customer)."""
    ranked = (
        select(
            Lead,
            func.row_number()
            .over(
                partition_by=Lead.converted_customer_id,
                order_by=(Lead.converted_at.desc(), Lead.id.desc()),
            )
            .label("rn"),
        )
        .where(Lead.converted_customer_id.in_(customer_ids), live(), visible(scope))
        .subquery()
    )
    row = aliased(Lead, ranked)
    stmt = (
        select(row)
        .where(ranked.c.rn <= limit)
        .order_by(ranked.c.converted_customer_id, ranked.c.rn)
    )
    grouped: dict[uuid.UUID, list[Lead]] = {cid: [] for cid in customer_ids}
    for lead in (await session.execute(stmt)).scalars():
        if lead.converted_customer_id is not None:
            grouped[lead.converted_customer_id].append(lead)
    return grouped
