"""A customer's 360° timeline: every kind of record about one customer, merged in time order.

One UNION ALL over the per-kind selects (each served by its ``(customer_id, time)`` index), keyset
paginated on (time, kind, id) descending, so a page costs one statement however long the history.
Dates (contracts, orders) are placed at midnight in the company's time zone.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import (
    DateTime,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.complaints.models import Complaint
from crm_core.contracts.models import Contract
from crm_core.errors import DomainError, ErrorCode
from crm_core.followups.models import FollowUp
from crm_core.interactions.models import Interaction
from crm_core.opportunities.models import Opportunity, OpportunityStageHistory
from crm_core.orders.models import Order
from crm_core.surveys.models import SurveyResponse
from crm_core.tickets.models import ServiceTicket
from crm_core.visits.models import VisitRecord

# Several labelled columns (kind, id, time, …): the shape the UNION ALL branches share.
Rows: TypeAlias = Select[*tuple[Any, ...]]

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str
    id: uuid.UUID  # the timeline row (a stage change has its own id)
    ref_id: uuid.UUID  # the record to show (for a stage change: its opportunity)
    at: datetime
    detail: str | None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    entries: list[Entry]
    cursors: list[str]
    has_next_page: bool
    total_count: int


def _simple(
    kind: str, model: Any, at: Any, *, dated: bool = False
) -> Callable[[uuid.UUID, str], Rows]:
    """A kind read straight off its table; a ``dated`` one (a calendar date) is placed at midnight
    in the company's time zone."""

    def build(customer_id: uuid.UUID, tz: str) -> Rows:
        when = func.timezone(tz, cast(at, DateTime)) if dated else at
        return select(
            literal(kind).label("kind"),
            model.id.label("id"),
            model.id.label("ref_id"),
            when.label("at"),
            cast(null(), String).label("detail"),
        ).where(model.customer_id == customer_id, model.deleted_at.is_(None))

    return build


def _stage_changes(customer_id: uuid.UUID, tz: str) -> Rows:
    h = OpportunityStageHistory
    # "qualification → proposal"; the first row (the opportunity's creation) names its stage.
    detail = case(
        (h.from_stage.is_(None), h.to_stage), else_=func.concat(h.from_stage, " → ", h.to_stage)
    )
    return (
        select(
            literal("stage_change").label("kind"),
            h.id.label("id"),
            h.opportunity_id.label("ref_id"),
            h.changed_at.label("at"),
            detail.label("detail"),
        )
        .join(Opportunity, Opportunity.id == h.opportunity_id)
        .where(Opportunity.customer_id == customer_id, Opportunity.deleted_at.is_(None))
    )


def _survey_responses(customer_id: uuid.UUID, tz: str) -> Rows:
    r = SurveyResponse
    return select(
        literal("survey_response").label("kind"),
        r.id.label("id"),
        r.id.label("ref_id"),
        r.submitted_at.label("at"),
        cast(null(), String).label("detail"),
    ).where(r.customer_id == customer_id)


SOURCES: dict[str, Callable[[uuid.UUID, str], Rows]] = {
    "interaction": _simple("interaction", Interaction, Interaction.occurred_at),
    "follow_up": _simple(
        "follow_up", FollowUp, func.coalesce(FollowUp.done_at, FollowUp.scheduled_at)
    ),
    "complaint": _simple("complaint", Complaint, Complaint.received_at),
    "ticket": _simple("ticket", ServiceTicket, ServiceTicket.requested_at),
    "stage_change": _stage_changes,
    "contract": _simple(
        "contract", Contract, func.coalesce(Contract.signed_on, Contract.starts_on), dated=True
    ),
    "order": _simple("order", Order, Order.ordered_on, dated=True),
    "visit": _simple("visit", VisitRecord, VisitRecord.visited_at),
    "survey_response": _survey_responses,
}
KINDS = tuple(SOURCES)


def encode_cursor(entry: Entry) -> str:
    raw = json.dumps([entry.at.isoformat(), entry.kind, str(entry.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, kind, rid = json.loads(raw)
        return datetime.fromisoformat(at), str(kind), uuid.UUID(rid)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise DomainError.one("after", ErrorCode.INVALID, "not a cursor of this list") from None


async def page(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    kinds: Sequence[str] | None,
    first: int,
    after: str | None,
    time_zone: str,
    with_total: bool = True,
) -> TimelinePage:
    """Newest first. The caller has checked that the customer is visible to the viewer."""
    if not 1 <= first <= MAX_PAGE:
        raise DomainError.one("first", ErrorCode.INVALID, f"between 1 and {MAX_PAGE}")
    chosen = [k for k in KINDS if kinds is None or k in kinds]
    if not chosen:
        return TimelinePage([], [], False, 0)
    merged = union_all(*(SOURCES[k](customer_id, time_zone) for k in chosen)).subquery()
    stmt = select(merged).order_by(merged.c.at.desc(), merged.c.kind.desc(), merged.c.id.desc())
    if after is not None:
        at, kind, rid = decode_cursor(after)
        stmt = stmt.where(tuple_(merged.c.at, merged.c.kind, merged.c.id) < (at, kind, rid))
    rows = (await session.execute(stmt.limit(first + 1))).all()
    entries = [Entry(r.kind, r.id, r.ref_id, r.at, r.detail) for r in rows[:first]]
    total = 0
    if with_total:
        total = (await session.execute(select(func.count()).select_from(merged))).scalar_one()
    return TimelinePage(
        entries=entries,
        cursors=[encode_cursor(e) for e in entries],
        has_next_page=len(rows) > first,
        total_count=total,
    )
