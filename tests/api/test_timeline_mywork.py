"""Customer 360 timeline (every kind merged newest first, keyset pages, kinds filter, scope and
tenants) and the signed-in user's reminders and tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from crmtest import make_tenant
from gqldocs import create_customer
from sqlalchemy import update

from crm_api.relay import from_global_id, to_global_id
from crm_core.followups.models import FollowUp

ERRORS = "errors { field code message }"
INTERACTION = f"""
mutation($c: ID!, $i: CreateInteractionInput!) {{
  createInteraction(customerId: $c, input: $i) {{ interaction {{ id }} {ERRORS} }}
}}"""
FOLLOW_UP = f"""
mutation($c: ID!, $i: CreateFollowUpInput!) {{
  createFollowUp(customerId: $c, input: $i) {{ followUp {{ id }} {ERRORS} }}
}}"""
COMPLAINT = f"""
mutation($c: ID!, $i: CreateComplaintInput!) {{
  createComplaint(customerId: $c, input: $i) {{ complaint {{ id }} {ERRORS} }}
}}"""
TICKET = f"""
mutation($c: ID!, $i: CreateServiceTicketInput!) {{
  createServiceTicket(customerId: $c, input: $i) {{ serviceTicket {{ id }} {ERRORS} }}
}}"""
TIMELINE = """
query($id: ID!, $first: Int! = 20, $after: String, $kinds: [TimelineKind!]) {
  customer(id: $id) {
    timeline(first: $first, after: $after, kinds: $kinds) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { kind occurredAt detail node { id __typename } } }
    }
  }
}"""
MY_WORK = """
query { myReminders { kind dueAt overdue node { id } } myTasks { kind dueAt overdue node { id } } }
"""


async def make(gql, doc, customer_id, payload_key, record_key, **fields):
    result = (await gql(doc, {"c": customer_id, "i": fields}))[payload_key]
    assert result["errors"] == [], result
    return result[record_key]["id"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "timeline-alpha")
    admin = await gql_as(t.admin_email)
    customer = await create_customer(admin, name="时间线客户")
    ids = {
        "interaction": await make(
            admin,
            INTERACTION,
            customer["id"],
            "createInteraction",
            "interaction",
            occurredAt="2026-03-01T10:00:00+08:00",
            channel="PHONE",
        ),
        "follow_up": await make(
            admin,
            FOLLOW_UP,
            customer["id"],
            "createFollowUp",
            "followUp",
            scheduledAt="2026-03-05T10:00:00+08:00",
        ),
        "complaint": await make(
            admin,
            COMPLAINT,
            customer["id"],
            "createComplaint",
            "complaint",
            kind="COMPLAINT",
            description="timeline",
            receivedAt="2026-03-03T10:00:00+08:00",
        ),
        "ticket": await make(
            admin,
            TICKET,
            customer["id"],
            "createServiceTicket",
            "serviceTicket",
            problem="timeline ticket",
            requestedAt="2026-03-04T10:00:00+08:00",
        ),
    }
    return {
        "t": t,
        "admin": admin,
        "customer": customer,
        "ids": ids,
        "b": await gql_as(tenant_b.admin_email),
    }


async def test_timeline_merges_kinds_newest_first_with_pages(world) -> None:
    gql, ids = world["admin"], world["ids"]
    whole = (await gql(TIMELINE, {"id": world["customer"]["id"]}))["customer"]["timeline"]
    order = [e["node"]["node"]["id"] for e in whole["edges"]]
    assert order == [ids["follow_up"], ids["ticket"], ids["complaint"], ids["interaction"]]
    assert whole["totalCount"] == 4 and whole["pageInfo"]["hasNextPage"] is False
    kinds = [e["node"]["kind"] for e in whole["edges"]]
    assert kinds == ["FOLLOW_UP", "TICKET", "COMPLAINT", "INTERACTION"]

    first = (await gql(TIMELINE, {"id": world["customer"]["id"], "first": 3}))["customer"][
        "timeline"
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await gql(
            TIMELINE,
            {"id": world["customer"]["id"], "first": 3, "after": first["pageInfo"]["endCursor"]},
        )
    )["customer"]["timeline"]
    assert [e["node"]["node"]["id"] for e in first["edges"] + rest["edges"]] == order

    only = (await gql(TIMELINE, {"id": world["customer"]["id"], "kinds": ["COMPLAINT", "TICKET"]}))[
        "customer"
    ]["timeline"]
    assert [e["node"]["kind"] for e in only["edges"]] == ["TICKET", "COMPLAINT"]


async def test_timeline_bad_cursor_and_size(world) -> None:
    with pytest.raises(AssertionError, match="not a cursor"):
        await world["admin"](TIMELINE, {"id": world["customer"]["id"], "after": "garbage"})
    with pytest.raises(AssertionError, match="between 1 and"):
        await world["admin"](TIMELINE, {"id": world["customer"]["id"], "first": 1000})


async def test_timeline_of_another_tenant_is_unreachable(world) -> None:
    result = await world["b"](TIMELINE, {"id": world["customer"]["id"]})
    assert result["customer"] is None


async def test_timeline_page_costs_constant_statements(world, count_statements) -> None:
    counter = count_statements()
    await world["admin"](TIMELINE, {"id": world["customer"]["id"], "first": 1})
    one = counter.count
    counter = count_statements()
    await world["admin"](TIMELINE, {"id": world["customer"]["id"], "first": 20})
    assert counter.count == one + 3  # three more kinds to load, one batched statement each


async def test_my_reminders_and_tasks(db, world, gql_as) -> None:
    t, admin = world["t"], world["admin"]
    customer = world["customer"]
    now = datetime.now(UTC)
    admin_id = to_global_id("User", t.admin.user_id)
    due = await make(
        admin,
        FOLLOW_UP,
        customer["id"],
        "createFollowUp",
        "followUp",
        scheduledAt=(now + timedelta(minutes=30)).isoformat(),
        remindAt=(now - timedelta(minutes=5)).isoformat(),
    )
    later = await make(
        admin,
        FOLLOW_UP,
        customer["id"],
        "createFollowUp",
        "followUp",
        scheduledAt=(now + timedelta(days=3)).isoformat(),
        remindAt=(now + timedelta(days=2)).isoformat(),
    )
    near_sla = await make(
        admin,
        COMPLAINT,
        customer["id"],
        "createComplaint",
        "complaint",
        kind="COMPLAINT",
        description="near its SLA",
        severity="CRITICAL",
        assigneeId=admin_id,
        receivedAt=now.isoformat(),
    )
    far_sla = await make(
        admin,
        COMPLAINT,
        customer["id"],
        "createComplaint",
        "complaint",
        kind="COMPLAINT",
        description="far from its SLA",
        severity="LOW",
        assigneeId=admin_id,
        receivedAt=now.isoformat(),
    )
    work = await admin(MY_WORK)
    reminders = [r["node"]["id"] for r in work["myReminders"]]
    assert due in reminders and later not in reminders
    # The March follow-up is long overdue: it is a reminder and an overdue task.
    assert world["ids"]["follow_up"] in reminders
    tasks = {t["node"]["id"]: t for t in work["myTasks"]}
    assert tasks[world["ids"]["follow_up"]]["overdue"] is True
    assert near_sla in tasks and far_sla not in tasks and later not in tasks
    assert tasks[near_sla]["kind"] == "COMPLAINT" and tasks[near_sla]["overdue"] is False
    dues = [t["dueAt"] for t in work["myTasks"]]
    assert dues == sorted(dues)

    # Someone else's work is not mine, and a deleted follow-up is nobody's.
    sales = await gql_as(t.sales_email)
    theirs = await sales(MY_WORK)
    assert theirs["myReminders"] == [] and theirs["myTasks"] == []
    async with db.tenant(t.ref).transaction() as session:
        await session.execute(
            update(FollowUp).where(FollowUp.id == from_global_id(due)[1]).values(deleted_at=now)
        )
    again = await admin(MY_WORK)
    assert due not in [r["node"]["id"] for r in again["myReminders"]]
