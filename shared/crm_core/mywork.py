"""The signed-in user's work: reminders that have come due and the tasks of the day.

- Reminders: planned follow-ups of mine whose reminder time has come (or, without a reminder
  time, whose scheduled time has), oldest first.
- Tasks: my planned follow-ups due by the end of today (overdue ones flagged), my visits planned
  for today, and unsettled complaints assigned to me whose SLA falls due within the warning
  window (tenant setting ``complaint_sla_warning_hours``, default 24) or has passed.

"Today" is the company's calendar day. Each list is one SQL statement (a UNION ALL for tasks),
limited to live records of live customers in the user's data scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.complaints import repository as complaints_repo
from crm_core.complaints.models import UNSETTLED, Complaint
from crm_core.errors import DomainError, ErrorCode
from crm_core.followups import repository as followups_repo
from crm_core.followups.models import FollowUp, FollowUpStatus
from crm_core.identity.principal import Principal
from crm_core.visits import repository as visits_repo
from crm_core.visits.models import VisitPlan, VisitPlanStatus

# Several labelled columns (kind, id, time, …): the shape the UNION ALL branches share.
Rows: TypeAlias = Select[*tuple[Any, ...]]

MAX_ITEMS = 200
SLA_WARNING_SETTING = "complaint_sla_warning_hours"
DEFAULT_SLA_WARNING_HOURS = 24


@dataclass(frozen=True, slots=True)
class WorkItem:
    kind: str  # follow_up | visit | complaint
    id: uuid.UUID
    due_at: datetime
    overdue: bool


def _bounded(first: int) -> int:
    if not 1 <= first <= MAX_ITEMS:
        raise DomainError.one("first", ErrorCode.INVALID, f"between 1 and {MAX_ITEMS}")
    return first


def end_of_day(now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The start and end of the company's calendar day containing ``now``."""
    local = now.astimezone(ZoneInfo(time_zone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def sla_warning(tenant_settings: Mapping[str, Any]) -> timedelta:
    hours = tenant_settings.get(SLA_WARNING_SETTING)
    if isinstance(hours, int | float) and not isinstance(hours, bool) and hours > 0:
        return timedelta(hours=hours)
    return timedelta(hours=DEFAULT_SLA_WARNING_HOURS)


async def reminders(
    session: AsyncSession, principal: Principal, *, now: datetime, first: int = 50
) -> list[WorkItem]:
    due = func.coalesce(FollowUp.remind_at, FollowUp.scheduled_at)
    stmt = (
        select(FollowUp.id, due.label("due_at"), FollowUp.scheduled_at)
        .where(
            FollowUp.owner_id == principal.user_id,
            FollowUp.status == FollowUpStatus.planned,
            followups_repo.live(),
            followups_repo.visible(principal.data_scope),
            due <= now,
        )
        .order_by(due, FollowUp.id)
        .limit(_bounded(first))
    )
    rows = (await session.execute(stmt)).all()
    return [WorkItem("follow_up", r.id, r.due_at, r.scheduled_at < now) for r in rows]


def _follow_ups(principal: Principal, until: datetime) -> Rows:
    return select(
        literal("follow_up").label("kind"),
        FollowUp.id.label("id"),
        FollowUp.scheduled_at.label("due_at"),
    ).where(
        FollowUp.owner_id == principal.user_id,
        FollowUp.status == FollowUpStatus.planned,
        FollowUp.scheduled_at < until,
        followups_repo.live(),
        followups_repo.visible(principal.data_scope),
    )


def _visits(principal: Principal, start: datetime, end: datetime) -> Rows:
    return select(
        literal("visit").label("kind"),
        VisitPlan.id.label("id"),
        VisitPlan.planned_at.label("due_at"),
    ).where(
        VisitPlan.visitor_id == principal.user_id,
        VisitPlan.status == VisitPlanStatus.planned,
        VisitPlan.planned_at >= start,
        VisitPlan.planned_at < end,
        visits_repo.plans.live(),
        visits_repo.plans.visible(principal.data_scope),
    )


def _complaints(principal: Principal, until: datetime) -> Rows:
    return select(
        literal("complaint").label("kind"),
        Complaint.id.label("id"),
        Complaint.sla_due_at.label("due_at"),
    ).where(
        Complaint.assignee_id == principal.user_id,
        Complaint.status.in_(UNSETTLED),
        Complaint.sla_due_at < until,
        complaints_repo.live(),
        complaints_repo.visible(principal.data_scope),
    )


async def tasks(
    session: AsyncSession,
    principal: Principal,
    *,
    now: datetime,
    time_zone: str,
    tenant_settings: Mapping[str, Any],
    first: int = 50,
) -> list[WorkItem]:
    start, end = end_of_day(now, time_zone)
    merged = union_all(
        _follow_ups(principal, end),
        _visits(principal, start, end),
        _complaints(principal, now + sla_warning(tenant_settings)),
    ).subquery()
    stmt = (
        select(merged).order_by(merged.c.due_at, merged.c.kind, merged.c.id).limit(_bounded(first))
    )
    rows = (await session.execute(stmt)).all()
    return [WorkItem(r.kind, r.id, r.due_at, r.due_at < now) for r in rows]
