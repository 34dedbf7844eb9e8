"""Visit plan and record queries (tenant-bound sessions only): the shared rules for a customer's
records, and the plan ↔ record lookups."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.customers.children import PER_CUSTOMER_LIMIT, CustomerChildren
from crm_core.identity.principal import DataScope
from crm_core.visits.models import VisitPlan, VisitRecord

plans = CustomerChildren(
    VisitPlan,
    order_by=(VisitPlan.planned_at.desc(), VisitPlan.id.desc()),
    search_column=VisitPlan.search_text,
)
visit_records = CustomerChildren(
    VisitRecord,
    order_by=(VisitRecord.visited_at.desc(), VisitRecord.id.desc()),
    search_column=VisitRecord.search_text,
)


async def records_by_plans(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> dict[uuid.UUID, VisitRecord]:
    """The live, visible report of each plan (at most one: ``uq_visit_records_plan_id``)."""
    stmt = select(VisitRecord).where(
        VisitRecord.plan_id.in_(plan_ids), visit_records.live(), visit_records.visible(scope)
    )
    rows = (await session.execute(stmt)).scalars().all()
    return {r.plan_id: r for r in rows if r.plan_id is not None}


async def record_of_plan(session: AsyncSession, plan_id: uuid.UUID) -> VisitRecord | None:
    """Any report naming the plan, soft-deleted ones too (the unique index counts them)."""
    stmt = select(VisitRecord).where(VisitRecord.plan_id == plan_id)
    return (await session.execute(stmt)).scalar_one_or_none()


__all__ = ["PER_CUSTOMER_LIMIT", "plans", "record_of_plan", "records_by_plans", "visit_records"]
