"""Satisfaction roll-ups: responses grouped by customer, product, agent or month.

Per group: responses; CSAT answers, their average and the share satisfied (4 or 5, in percent);
NPS answers, promoters (9–10), detractors (0–6) and the NPS (promoters − detractors, in percent of
the NPS answers, −100 … 100). Product and agent come from the record that caused the send: the
ticket's ``product`` and ``assignee``, or the complaint's ``product_or_service`` and ``assignee``
(responses to periodic and manual sends have neither: their group key is null). Months are
calendar months in the company's time zone. Only customers in the viewer's data scope count.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.complaints.models import Complaint
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.identity.principal import DataScope
from crm_core.surveys.models import SurveyResponse, SurveySend, SurveyTrigger
from crm_core.tenants.models import User
from crm_core.tickets.models import ServiceTicket

MAX_GROUPS = 500


class StatsGroupBy(enum.StrEnum):
    customer = "customer"
    product = "product"
    agent = "agent"
    month = "month"


@dataclass(frozen=True, slots=True)
class StatsFilter:
    template_id: uuid.UUID | None = None
    trigger: SurveyTrigger | None = None
    customer_id: uuid.UUID | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class StatsRow:
    key: str | None
    label: str | None
    responses: int
    csat_count: int
    csat_average: float | None
    satisfied_percent: float | None
    nps_count: int
    promoters: int
    detractors: int
    nps: float | None


def _key(group_by: StatsGroupBy, time_zone: str) -> ColumnElement[Any]:
    if group_by is StatsGroupBy.customer:
        return cast(SurveyResponse.customer_id, String)
    if group_by is StatsGroupBy.product:
        return func.coalesce(ServiceTicket.product, Complaint.product_or_service)
    if group_by is StatsGroupBy.agent:
        return cast(func.coalesce(ServiceTicket.assignee_id, Complaint.assignee_id), String)
    return func.to_char(func.timezone(time_zone, SurveyResponse.submitted_at), "YYYY-MM")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.count().filter(condition)


async def compute(
    session: AsyncSession,
    group_by: StatsGroupBy,
    flt: StatsFilter,
    *,
    scope: DataScope | None,
    time_zone: str = "UTC",
) -> list[StatsRow]:
    key = _key(group_by, time_zone).label("key")
    csat, nps = SurveyResponse.csat, SurveyResponse.nps
    stmt = (
        select(
            key,
            func.count().label("responses"),
            func.count(csat).label("csat_count"),
            func.avg(csat).label("csat_avg"),
            _count_if(csat >= 4).label("satisfied"),
            func.count(nps).label("nps_count"),
            _count_if(nps >= 9).label("promoters"),
            _count_if(nps <= 6).label("detractors"),
        )
        .select_from(SurveyResponse)
        .join(SurveySend, SurveySend.id == SurveyResponse.send_id)
        .join(Customer, Customer.id == SurveyResponse.customer_id)
        .outerjoin(ServiceTicket, ServiceTicket.id == SurveySend.ticket_id)
        .outerjoin(Complaint, Complaint.id == SurveySend.complaint_id)
        .where(customers_repo.visible(scope))
        .group_by(key)
        .order_by(func.count().desc(), key)
        .limit(MAX_GROUPS)
    )
    if flt.template_id is not None:
        stmt = stmt.where(SurveyResponse.template_id == flt.template_id)
    if flt.trigger is not None:
        stmt = stmt.where(SurveySend.trigger == flt.trigger)
    if flt.customer_id is not None:
        stmt = stmt.where(SurveyResponse.customer_id == flt.customer_id)
    if flt.submitted_from is not None:
        stmt = stmt.where(SurveyResponse.submitted_at >= flt.submitted_from)
    if flt.submitted_to is not None:
        stmt = stmt.where(SurveyResponse.submitted_at < flt.submitted_to)
    rows = (await session.execute(stmt)).all()
    labels = await _labels(session, group_by, [r.key for r in rows if r.key is not None])
    out = []
    for r in rows:
        out.append(
            StatsRow(
                key=r.key,
                label=labels.get(r.key, r.key) if r.key is not None else None,
                responses=r.responses,
                csat_count=r.csat_count,
                csat_average=round(float(r.csat_avg), 2) if r.csat_avg is not None else None,
                satisfied_percent=(
                    round(100.0 * r.satisfied / r.csat_count, 1) if r.csat_count else None
                ),
                nps_count=r.nps_count,
                promoters=r.promoters,
                detractors=r.detractors,
                nps=(
                    round(100.0 * (r.promoters - r.detractors) / r.nps_count, 1)
                    if r.nps_count
                    else None
                ),
            )
        )
    return out


async def _labels(
    session: AsyncSession, group_by: StatsGroupBy, keys: Sequence[str]
) -> dict[str, str]:
    if not keys or group_by not in (StatsGroupBy.customer, StatsGroupBy.agent):
        return {}
    ids = [uuid.UUID(k) for k in keys]
    if group_by is StatsGroupBy.customer:
        rows = await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    else:
        rows = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {str(r.id): r.name for r in rows}
