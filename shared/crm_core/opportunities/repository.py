"""Opportunity queries (tenant-bound sessions only): the shared rules for a customer's records,
plus the lines and stage history of many opportunities at once (one statement per page)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm_core.customers.children import PER_CUSTOMER_LIMIT, CustomerChildren
from crm_core.opportunities.models import (
    Opportunity,
    OpportunityOutcome,
    OpportunityProduct,
    OpportunityStageHistory,
)

# Stage changes shown per opportunity: a deal that went back and forth more than this is read
# through the report, not the object.
HISTORY_LIMIT = 100

_children = CustomerChildren(
    Opportunity,
    order_by=(Opportunity.created_at.desc(), Opportunity.id.desc()),
    search_column=Opportunity.search_text,
)

live = _children.live
visible = _children.visible
get = _children.get
get_many = _children.get_many
by_customers = _children.by_customers
base_select = _children.base_select


async def open_by_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, limit: int = PER_CUSTOMER_LIMIT
) -> dict[uuid.UUID, list[Opportunity]]:
    """Open opportunities (neither won nor lost) of many customers, one statement."""
    return await _children.by_customers(
        session,
        customer_ids,
        limit=limit,
        where=(Opportunity.outcome == OpportunityOutcome.open,),
    )


async def lines_of(
    session: AsyncSession, opportunity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OpportunityProduct]]:
    stmt = (
        select(OpportunityProduct)
        .where(OpportunityProduct.opportunity_id.in_(opportunity_ids))
        .order_by(OpportunityProduct.opportunity_id, OpportunityProduct.position)
    )
    grouped: dict[uuid.UUID, list[OpportunityProduct]] = {i: [] for i in opportunity_ids}
    for line in (await session.execute(stmt)).scalars():
        grouped[line.opportunity_id].append(line)
    return grouped


async def history_of(
    session: AsyncSession, opportunity_ids: Sequence[uuid.UUID], *, limit: int = HISTORY_LIMIT
) -> dict[uuid.UUID, list[OpportunityStageHistory]]:
    """Oldest first, the latest ``limit`` changes of each."""
    H = OpportunityStageHistory
    ranked = (
        select(
            H,
            func.row_number()
            .over(partition_by=H.opportunity_id, order_by=(H.changed_at.desc(), H.id.desc()))
            .label("rn"),
        )
        .where(H.opportunity_id.in_(opportunity_ids))
        .subquery()
    )
    row = aliased(H, ranked)
    stmt = (
        select(row)
        .where(ranked.c.rn <= limit)
        .order_by(ranked.c.opportunity_id, ranked.c.rn.desc())
    )
    grouped: dict[uuid.UUID, list[OpportunityStageHistory]] = {i: [] for i in opportunity_ids}
    for change in (await session.execute(stmt)).scalars():
        grouped[change.opportunity_id].append(change)
    return grouped


async def open_stages_in_use(session: AsyncSession) -> set[str]:
    """Stages that live open opportunities stand in (ix_opportunities_open_stage)."""
    stmt = (
        select(Opportunity.stage)
        .where(Opportunity.outcome == OpportunityOutcome.open, Opportunity.deleted_at.is_(None))
        .distinct()
    )
    return set((await session.execute(stmt)).scalars())


__all__ = [
    "PER_CUSTOMER_LIMIT",
    "base_select",
    "by_customers",
    "get",
    "get_many",
    "history_of",
    "lines_of",
    "live",
    "open_stages_in_use",
    "visible",
]
