"""Customer 360 timeline (every kind merged newest first, keyset pages, kinds filter, scope and
tenants) and the signed-in user's reminders and tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


PRODUCT = f"""
mutation($i: CreateProductInput!) {{ createProduct(input: $i) {{ product {{ id }} {ERRORS} }} }}"""
OPPORTUNITY = f"""
mutation($c: ID!, $i: CreateOpportunityInput!) {{
  createOpportunity(customerId: $c, input: $i) {{ opportunity {{ id }} {ERRORS} }}
}}"""
MOVE = f"""
mutation($id: ID!, $i: UpdateOpportunityInput!) {{
  updateOpportunity(id: $id, input: $i) {{ opportunity {{ id stage }} {ERRORS} }}
}}"""
CONTRACT = f"""
mutation($c: ID!, $i: CreateContractInput!) {{
  createContract(customerId: $c, input: $i) {{ contract {{ id }} {ERRORS} }}
}}"""
ORDER = f"""
mutation($c: ID!, $i: CreateOrderInput!) {{
  createOrder(customerId: $c, input: $i) {{ order {{ id }} {ERRORS} }}
}}"""
VISIT_RECORD = f"""
mutation($c: ID!, $i: CreateVisitRecordInput!) {{
  createVisitRecord(customerId: $c, input: $i) {{ visitRecord {{ id }} {ERRORS} }}
}}"""
VISIT_PLAN = f"""
mutation($c: ID!, $i: CreateVisitPlanInput!) {{
  createVisitPlan(customerId: $c, input: $i) {{ visitPlan {{ id }} {ERRORS} }}
}}"""


async def test_timeline_holds_sales_records_and_stage_changes(db, gql_as) -> None:
    t = await make_tenant(db, "timeline-sales")
    admin = await gql_as(t.admin_email)
    customer = await create_customer(admin, name="销售时间线")
    cid = customer["id"]
    product = (
        await admin(
            PRODUCT,
            {"i": {"code": "TL-1", "name": "净水器", "unitPrice": "100", "currency": "CNY"}},
        )
    )["createProduct"]["product"]["id"]
    opportunity = await make(
        admin, OPPORTUNITY, cid, "createOpportunity", "opportunity", name="年度采购"
    )
    moved = (await admin(MOVE, {"id": opportunity, "i": {"stage": "needs_analysis"}}))[
        "updateOpportunity"
    ]
    assert moved["errors"] == [], moved
    contract = await make(
        admin,
        CONTRACT,
        cid,
        "createContract",
        "contract",
        name="年度合同",
        startsOn="2026-02-01",
        endsOn="2027-01-31",
        signedOn="2026-01-20",
    )
    order = await make(
        admin,
        ORDER,
        cid,
        "createOrder",
        "order",
        orderedOn="2026-02-10",
        lines=[{"productId": product, "quantity": "2"}],
    )
    visit = await make(
        admin,
        VISIT_RECORD,
        cid,
        "createVisitRecord",
        "visitRecord",
        visitedAt="2026-01-05T10:00:00+08:00",
        outcome="B",
    )
    page = (await admin(TIMELINE, {"id": cid, "first": 20}))["customer"]["timeline"]
    entries = [(e["node"]["kind"], e["node"]["node"]["id"]) for e in page["edges"]]
    # Two stage changes (created in the first stage, then moved) come first: they happened now.
    assert entries[:2] == [("STAGE_CHANGE", opportunity), ("STAGE_CHANGE", opportunity)]
    assert entries[2:] == [("ORDER", order), ("CONTRACT", contract), ("VISIT", visit)]
    details = [e["node"]["detail"] for e in page["edges"][:2]]
    assert details == ["qualification → needs_analysis", "qualification"]
    # A company date sits at midnight in the company's zone (Asia/Shanghai by default).
    order_at = next(e["node"]["occurredAt"] for e in page["edges"] if e["node"]["kind"] == "ORDER")
    assert order_at.startswith("2026-02-09T16:00:00")

    # A visit planned today is a task of its visitor.
    planned = await make(
        admin,
        VISIT_PLAN,
        cid,
        "createVisitPlan",
        "visitPlan",
        plannedAt=(datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        purpose="今天拜访",
    )
    tasks = (await admin(MY_WORK))["myTasks"]
    assert any(w["kind"] == "VISIT" and w["node"]["id"] == planned for w in tasks)


def _later_today() -> datetime:
    """A minute from now, or a minute ago when that would be tomorrow in Shanghai."""
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime.now(UTC)
    soon = now + timedelta(minutes=1)
    same_day = soon.astimezone(shanghai).date() == now.astimezone(shanghai).date()
    return soon if same_day else now - timedelta(minutes=1)


async def test_customer_open_opportunities(db, gql_as) -> None:
    t = await make_tenant(db, "open-opps")
    admin = await gql_as(t.admin_email)
    customer = await create_customer(admin, name="机会客户")
    still_open = await make(
        admin, OPPORTUNITY, customer["id"], "createOpportunity", "opportunity", name="开着的"
    )
    lost = await make(
        admin, OPPORTUNITY, customer["id"], "createOpportunity", "opportunity", name="丢了的"
    )
    result = (await admin(MOVE, {"id": lost, "i": {"stage": "lost", "lostReason": "价格"}}))[
        "updateOpportunity"
    ]
    assert result["errors"] == [], result
    query = """
    query($id: ID!) { customer(id: $id) {
      all: opportunities(first: 10) { id }
      open: opportunities(first: 10, open: true) { id }
    } }"""
    found = (await admin(query, {"id": customer["id"]}))["customer"]
    assert {o["id"] for o in found["all"]} == {still_open, lost}
    assert [o["id"] for o in found["open"]] == [still_open]


async def test_survey_responses_are_on_the_timeline_and_nodes(db, gql_as, tenant_b) -> None:
    from crm_core.surveys.models import (
        SurveyKind,
        SurveyLanguage,
        SurveyResponse,
        SurveySend,
        SurveySendStatus,
        SurveySourceKind,
        SurveyTemplate,
        SurveyTrigger,
    )

    t = await make_tenant(db, "timeline-survey")
    admin = await gql_as(t.admin_email)
    customer = await create_customer(admin, name="问卷客户")
    customer_pk = from_global_id(customer["id"])[1]
    async with db.tenant(t.ref).transaction() as session:
        template = SurveyTemplate(
            name="满意度",
            kind=SurveyKind.csat,
            language=SurveyLanguage.zh,
            trigger=SurveyTrigger.manual,
            questions=[{"key": "overall", "kind": "csat", "text": "满意吗", "required": True}],
        )
        session.add(template)
        await session.flush()
        send = SurveySend(
            template_id=template.id,
            customer_id=customer_pk,
            locale="zh",
            trigger=SurveyTrigger.manual,
            source_kind=SurveySourceKind.manual,
            source_key="timeline-test",
            status=SurveySendStatus.responded,
            token_hash=b"\0" * 32,
            sent_at=datetime.now(UTC) - timedelta(days=1),
            expires_at=datetime.now(UTC) + timedelta(days=29),
            responded_at=datetime.now(UTC),
        )
        session.add(send)
        await session.flush()
        response = SurveyResponse(
            send_id=send.id,
            template_id=template.id,
            customer_id=customer_pk,
            answers={"overall": 5},
            csat=5,
        )
        session.add(response)
        await session.flush()
        response_id = to_global_id("SurveyResponse", response.id)
    page = (await admin(TIMELINE, {"id": customer["id"]}))["customer"]["timeline"]
    assert [(e["node"]["kind"], e["node"]["node"]["id"]) for e in page["edges"]] == [
        ("SURVEY_RESPONSE", response_id)
    ]
    node = "query($id: ID!) { node(id: $id) { id __typename } }"
    assert (await admin(node, {"id": response_id}))["node"]["__typename"] == "SurveyResponse"
    other = await gql_as(tenant_b.admin_email)
    assert (await other(node, {"id": response_id}))["node"] is None
