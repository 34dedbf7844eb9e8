"""Activity queries (tenant-bound sessions only).

Activities are the company's own events (an exhibition, a webinar), not records of one
customer: every reader in the tenant sees them, so a sales rep can put their customers on the
list of an event a colleague organises. The data scope applies where it protects something:
only a writer whose scope covers the owner changes the activity (``writable``), and an attendee
is visible only while its customer is (live, in the viewer's scope) and its activity is live.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm_core import records
from crm_core.activities.models import SEATED_VALUES, Activity, ActivityAttendee
from crm_core.customers import repository as customers_repo
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate

PER_PARENT_LIMIT = 100


def live() -> ColumnElement[bool]:
    return Activity.deleted_at.is_(None)


def writable(scope: DataScope | None) -> ColumnElement[bool]:
    condition = scope.owner_condition(Activity.owner_id) if scope is not None else None
    return condition if condition is not None else true()


def visible(scope: DataScope | None) -> ColumnElement[bool]:
    """Every reader of the tenant sees its activities (see the module's docstring)."""
    return true()


def attendee_visible(scope: DataScope | None) -> ColumnElement[bool]:
    return and_(
        ActivityAttendee.customer_id.in_(customers_repo.visible_ids(scope)),
        ActivityAttendee.activity_id.in_(select(Activity.id).where(live())),
    )


async def get(
    session: AsyncSession,
    activity_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    scope: DataScope | None = None,
) -> Activity | None:
    return await records.get(
        session, Activity, activity_id, include_deleted=include_deleted, visible=visible(scope)
    )


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[Activity]:
    return await records.get_many(session, Activity, ids, visible=visible(scope))


async def lock(session: AsyncSession, activity_id: uuid.UUID) -> None:
    """Serialise seat-taking on one activity (capacity is checked, then rows are written)."""
    await session.execute(select(Activity.id).where(Activity.id == activity_id).with_for_update())


async def seats_taken(
    session: AsyncSession, activity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Seated attendees per activity, whoever's customers they are (capacity is for everyone)."""
    stmt = (
        select(ActivityAttendee.activity_id, func.count())
        .where(
            ActivityAttendee.activity_id.in_(activity_ids),
            ActivityAttendee.status.in_(SEATED_VALUES),
        )
        .group_by(ActivityAttendee.activity_id)
    )
    counts = {aid: 0 for aid in activity_ids}
    for aid, n in (await session.execute(stmt)).all():
        counts[aid] = n
    return counts


async def existing_keys(
    session: AsyncSession, activity_id: uuid.UUID
) -> set[tuple[uuid.UUID, uuid.UUID | None]]:
    stmt = select(ActivityAttendee.customer_id, ActivityAttendee.contact_id).where(
        ActivityAttendee.activity_id == activity_id
    )
    return {(c, p) for c, p in (await session.execute(stmt)).all()}


async def get_attendee(
    session: AsyncSession, attendee_id: uuid.UUID, *, scope: DataScope | None = None
) -> ActivityAttendee | None:
    return await records.get(
        session, ActivityAttendee, attendee_id, visible=attendee_visible(scope)
    )


async def get_attendees(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[ActivityAttendee]:
    return await records.get_many(session, ActivityAttendee, ids, visible=attendee_visible(scope))


async def attendees_by_activities(
    session: AsyncSession,
    activity_ids: Sequence[uuid.UUID],
    *,
    limit: int = PER_PARENT_LIMIT,
    scope: DataScope | None = None,
) -> dict[uuid.UUID, list[ActivityAttendee]]:
    """The first ``limit`` visible attendees of many activities (in the order they were added),
    one statement."""
    ranked = (
        select(
            ActivityAttendee,
            func.row_number()
            .over(
                partition_by=ActivityAttendee.activity_id,
                order_by=(ActivityAttendee.created_at, ActivityAttendee.id),
            )
            .label("rn"),
        )
        .where(ActivityAttendee.activity_id.in_(activity_ids), attendee_visible(scope))
        .subquery()
    )
    row = aliased(ActivityAttendee, ranked)
    stmt = select(row).where(ranked.c.rn <= limit).order_by(ranked.c.activity_id, ranked.c.rn)
    grouped: dict[uuid.UUID, list[ActivityAttendee]] = {aid: [] for aid in activity_ids}
    for attendee in (await session.execute(stmt)).scalars():
        grouped[attendee.activity_id].append(attendee)
    return grouped


async def by_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, limit: int = PER_PARENT_LIMIT
) -> dict[uuid.UUID, list[Activity]]:
    """Live activities each customer is on the list of, latest first, one statement."""
    pairs = (
        select(ActivityAttendee.customer_id, ActivityAttendee.activity_id)
        .where(ActivityAttendee.customer_id.in_(customer_ids))
        .distinct()
        .subquery()
    )
    ranked = (
        select(
            Activity,
            pairs.c.customer_id.label("attendee_customer_id"),
            func.row_number()
            .over(
                partition_by=pairs.c.customer_id,
                order_by=(Activity.starts_at.desc(), Activity.id.desc()),
            )
            .label("rn"),
        )
        .join(pairs, pairs.c.activity_id == Activity.id)
        .where(live())
        .subquery()
    )
    row = aliased(Activity, ranked)
    stmt = (
        select(row, ranked.c.attendee_customer_id)
        .where(ranked.c.rn <= limit)
        .order_by(ranked.c.attendee_customer_id, ranked.c.rn)
    )
    grouped: dict[uuid.UUID, list[Activity]] = {cid: [] for cid in customer_ids}
    for activity, customer_id in (await session.execute(stmt)).all():
        grouped[customer_id].append(activity)
    return grouped


def base_select(
    *, include_deleted: bool, search: str | None, scope: DataScope | None = None
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [visible(scope)]
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(Activity.search_text, search))
    return select(Activity).where(and_(*conditions))
