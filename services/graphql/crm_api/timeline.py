"""`Customer.timeline`: the customer's records of every kind in time order (crm_core.timeline)."""

from __future__ import annotations

import asyncio
import datetime
import enum
import uuid

import strawberry

from crm_api.context import Info
from crm_api.errors import as_graphql_errors
from crm_api.node import RESOLVERS
from crm_api.relay import Node, PageInfo
from crm_core import timeline


@strawberry.enum(description="Kinds of record on a customer's timeline.")
class TimelineKind(enum.Enum):
    INTERACTION = "interaction"
    FOLLOW_UP = "follow_up"
    COMPLAINT = "complaint"
    TICKET = "ticket"
    STAGE_CHANGE = "stage_change"
    CONTRACT = "contract"
    ORDER = "order"
    VISIT = "visit"
    SURVEY_RESPONSE = "survey_response"


# The GraphQL type each kind shows (a stage change shows its opportunity).
TYPE_NAMES = {
    "interaction": "Interaction",
    "follow_up": "FollowUp",
    "complaint": "Complaint",
    "ticket": "ServiceTicket",
    "stage_change": "Opportunity",
    "contract": "Contract",
    "order": "Order",
    "visit": "VisitRecord",
    "survey_response": "SurveyResponse",
}


@strawberry.type
class TimelineEntry:
    kind: TimelineKind
    occurred_at: datetime.datetime
    detail: str | None = strawberry.field(description="For a stage change: `from → to`.")
    node: Node


@strawberry.type
class TimelineEdge:
    cursor: str
    node: TimelineEntry


@strawberry.type
class TimelineConnection:
    edges: list[TimelineEdge]
    page_info: PageInfo
    total_count: int


async def customer_timeline(
    info: Info,
    customer_id: uuid.UUID,
    first: int,
    after: str | None,
    kinds: list[TimelineKind] | None,
) -> TimelineConnection:
    async def load() -> TimelineConnection:
        ctx = info.context
        principal = ctx.require_principal()
        wanted = {k.value for k in kinds} if kinds else set(TYPE_NAMES)
        # Only the kinds the viewer's role may read: the others are left out, not refused.
        allowed = [
            k
            for k in timeline.KINDS
            if k in wanted
            and (TYPE_NAMES[k] in RESOLVERS)
            and principal.allows(RESOLVERS[TYPE_NAMES[k]][0] or "")
        ]
        async with ctx.tenant_db.read() as session:
            zone = await ctx.tenant_time_zone(session)
            found = await timeline.page(
                session, customer_id, kinds=allowed, first=first, after=after, time_zone=zone
            )
        nodes = await asyncio.gather(
            *(RESOLVERS[TYPE_NAMES[e.kind]][1](info, e.ref_id) for e in found.entries)
        )
        edges = [
            TimelineEdge(
                cursor=cursor,
                node=TimelineEntry(
                    kind=TimelineKind(e.kind), occurred_at=e.at, detail=e.detail, node=n
                ),
            )
            for e, cursor, n in zip(found.entries, found.cursors, nodes, strict=True)
            if n is not None
        ]
        return TimelineConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=found.has_next_page,
                has_previous_page=after is not None,
                start_cursor=found.cursors[0] if found.cursors else None,
                end_cursor=found.cursors[-1] if found.cursors else None,
            ),
            total_count=found.total_count,
        )

    return await as_graphql_errors(load)
