"""`myReminders` and `myTasks`: the signed-in user's due work (crm_core.mywork)."""

from __future__ import annotations

import asyncio
import datetime
import enum
from collections.abc import Sequence

import strawberry

from crm_api.context import Info
from crm_api.errors import as_graphql_errors
from crm_api.node import RESOLVERS
from crm_api.relay import Node
from crm_core import mywork
from crm_core.tenants.repository import settings_of


@strawberry.enum
class WorkKind(enum.Enum):
    FOLLOW_UP = "follow_up"
    VISIT = "visit"
    COMPLAINT = "complaint"


TYPE_NAMES = {"follow_up": "FollowUp", "visit": "VisitPlan", "complaint": "Complaint"}


@strawberry.type(description="Something to do: the record, when it is due, whether it is late.")
class WorkItem:
    kind: WorkKind
    due_at: datetime.datetime
    overdue: bool
    node: Node


async def _items(info: Info, found: Sequence[mywork.WorkItem]) -> list[WorkItem]:
    principal = info.context.require_principal()
    shown = [
        w
        for w in found
        if TYPE_NAMES[w.kind] in RESOLVERS
        and principal.allows(RESOLVERS[TYPE_NAMES[w.kind]][0] or "")
    ]
    nodes = await asyncio.gather(*(RESOLVERS[TYPE_NAMES[w.kind]][1](info, w.id) for w in shown))
    return [
        WorkItem(kind=WorkKind(w.kind), due_at=w.due_at, overdue=w.overdue, node=n)
        for w, n in zip(shown, nodes, strict=True)
        if n is not None
    ]


@strawberry.type
class MyWorkQueries:
    @strawberry.field(
        description="Your planned follow-ups whose reminder time (or, without one, scheduled "
        "time) has come, oldest first."
    )
    async def my_reminders(self, info: Info, first: int = 50) -> list[WorkItem]:
        async def load() -> list[WorkItem]:
            ctx = info.context
            async with ctx.tenant_db.read() as session:
                found = await mywork.reminders(
                    session, ctx.require_principal(), now=_now(), first=first
                )
            return await _items(info, found)

        return await as_graphql_errors(load)

    @strawberry.field(
        description="Your work for today, soonest first: planned follow-ups due by the end of "
        "the day (overdue ones flagged), visits planned today, and complaints assigned to you "
        "whose SLA is near or past."
    )
    async def my_tasks(self, info: Info, first: int = 50) -> list[WorkItem]:
        async def load() -> list[WorkItem]:
            ctx = info.context
            principal = ctx.require_principal()
            async with ctx.tenant_db.read() as session:
                found = await mywork.tasks(
                    session,
                    principal,
                    now=_now(),
                    time_zone=await ctx.tenant_time_zone(session),
                    tenant_settings=await settings_of(session, principal.tenant.id),
                    first=first,
                )
            return await _items(info, found)

        return await as_graphql_errors(load)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
