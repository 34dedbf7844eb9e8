"""Visit plans and visit records: lifecycle with audit, the customer's "do not visit" windows,
recording a visit completes its plan, the next-visit date rule, expenses and currency, tenant
isolation, data scope, permissions, and the constant statement count of a customer page with its
plans and records."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role

ERRORS = "errors { field code message }"
PLAN_FIELDS = (
    "id plannedAt purpose place status notes version deletedAt visitor { name } "
    "contact { name } customer { name } record { id outcome }"
)
RECORD_FIELDS = (
    "id visitedAt outcome outcomeLabel content problemsSolved watchNextTime expenses currency "
    "nextVisitOn version deletedAt visitor { name } customer { name } plan { id status }"
)
CREATE_PLAN = f"""
mutation($c: ID!, $i: CreateVisitPlanInput!) {{
  createVisitPlan(customerId: $c, input: $i) {{ visitPlan {{ {PLAN_FIELDS} }} {ERRORS} }}
}}"""
CREATE_PLANS = f"""
mutation($i: [CreateVisitPlanItemInput!]!) {{
  createVisitPlans(inputs: $i) {{ visitPlans {{ id }} {ERRORS} }}
}}"""
UPDATE_PLAN = f"""
mutation($id: ID!, $i: UpdateVisitPlanInput!, $v: Int) {{
  updateVisitPlan(id: $id, input: $i, version: $v) {{ visitPlan {{ {PLAN_FIELDS} }} {ERRORS} }}
}}"""
DELETE_PLAN = f"mutation($id: ID!, $v: Int) {{ deleteVisitPlan(id: $id, version: $v) {{ visitPlan {{ id deletedAt }} {ERRORS} }} }}"
RESTORE_PLAN = f"mutation($id: ID!) {{ restoreVisitPlan(id: $id) {{ visitPlan {{ id deletedAt }} {ERRORS} }} }}"
DESTROY_PLAN = f"mutation($id: ID!) {{ destroyVisitPlan(id: $id) {{ destroyedId {ERRORS} }} }}"
GET_PLAN = f"query($id: ID!) {{ visitPlan(id: $id) {{ {PLAN_FIELDS} }} }}"
PLANS = """
query($first: Int, $filter: VisitPlanFilter, $search: String, $del: Boolean! = false) {
  visitPlans(first: $first, filter: $filter, search: $search, includeDeleted: $del) {
    totalCount edges { node { id purpose status } }
  }
}"""
CREATE_RECORD = f"""
mutation($c: ID!, $i: CreateVisitRecordInput!) {{
  createVisitRecord(customerId: $c, input: $i) {{ visitRecord {{ {RECORD_FIELDS} }} {ERRORS} }}
}}"""
CREATE_RECORDS = f"""
mutation($i: [CreateVisitRecordItemInput!]!) {{
  createVisitRecords(inputs: $i) {{ visitRecords {{ id }} {ERRORS} }}
}}"""
UPDATE_RECORD = f"""
mutation($id: ID!, $i: UpdateVisitRecordInput!, $v: Int) {{
  updateVisitRecord(id: $id, input: $i, version: $v) {{ visitRecord {{ {RECORD_FIELDS} }} {ERRORS} }}
}}"""
DELETE_RECORD = f"mutation($id: ID!, $v: Int) {{ deleteVisitRecord(id: $id, version: $v) {{ visitRecord {{ id deletedAt }} {ERRORS} }} }}"
RESTORE_RECORD = f"mutation($id: ID!) {{ restoreVisitRecord(id: $id) {{ visitRecord {{ id deletedAt }} {ERRORS} }} }}"
DESTROY_RECORD = f"mutation($id: ID!) {{ destroyVisitRecord(id: $id) {{ destroyedId {ERRORS} }} }}"
GET_RECORD = f"query($id: ID!) {{ visitRecord(id: $id) {{ {RECORD_FIELDS} }} }}"
RECORDS = """
query($first: Int, $filter: VisitRecordFilter, $search: String, $del: Boolean! = false) {
  visitRecords(first: $first, filter: $filter, search: $search, includeDeleted: $del) {
    totalCount edges { node { id outcome expenses } }
  }
}"""
# Shanghai is the company's zone (the tenant default): 12:00–14:00 is lunch there, every day;
# on Wednesdays (3) nobody is seen after 17:00, into Thursday 08:00.
WINDOWS = [
    {"start": "12:00", "end": "14:00", "note": "午休 lunch"},
    {"weekday": 3, "start": "17:00", "end": "08:00"},
]
PLAN = {"plannedAt": "2026-06-01T10:00:00+08:00", "purpose": "介绍新品 new line"}  # a Monday
VISIT = {"visitedAt": "2026-06-01T10:30:00+08:00", "outcome": "B"}


async def plan(gql, customer_id, **fields):
    result = (await gql(CREATE_PLAN, {"c": customer_id, "i": {**PLAN, **fields}}))[
        "createVisitPlan"
    ]
    assert result["errors"] == [], result
    return result["visitPlan"]


async def report(gql, customer_id, **fields):
    result = (await gql(CREATE_RECORD, {"c": customer_id, "i": {**VISIT, **fields}}))[
        "createVisitRecord"
    ]
    assert result["errors"] == [], result
    return result["visitRecord"]


def first_error(result):
    return (result["errors"][0]["field"], result["errors"][0]["code"])


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "vs-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="拜访镜像客户")
    mine = await create_customer(admin, name="拜访客户", doNotVisit=WINDOWS)
    contact = (await admin(CREATE_CONTACT, {"c": mine["id"], "i": {"name": "张经理"}}))[
        "createContact"
    ]["contact"]
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "viewer": await gql_as(t.viewer_email),
        "mine": mine,
        "contact": contact,
        "other": await create_customer(admin, name="拜访别家"),
        "sales_customer": await create_customer(sales, name="Rep Visit Customer"),
        "b": b,
        "b_customer": b_customer,
        "b_plan": await plan(b, b_customer["id"], purpose="镜像计划 mirrored"),
        "b_record": await report(b, b_customer["id"], content="镜像拜访 mirrored"),
        "b_sales": tenant_b.sales,
    }


async def _actions(db, tenant, global_id):
    async with db.tenant(tenant.ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(global_id)[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return list(rows.scalars())


async def test_plan_lifecycle_with_audit(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    made = await plan(
        gql,
        mine["id"],
        place="客户总部 HQ",
        contactId=world["contact"]["id"],
        notes="bring samples",
    )
    assert made["status"] == "PLANNED" and made["visitor"] == {"name": "Admin"}
    assert made["contact"] == {"name": "张经理"} and made["customer"] == {"name": "拜访客户"}
    assert made["record"] is None
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "VisitPlan"
    page = (
        await gql(
            PLANS,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "status": {"eq": "PLANNED"},
                    "plannedAt": {"gte": "2026-06-01T00:00:00+08:00"},
                },
                "search": "samples",
            },
        )
    )["visitPlans"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]]
    moved = (
        await gql(
            UPDATE_PLAN, {"id": made["id"], "v": 1, "i": {"plannedAt": "2026-06-02T15:00:00+08:00"}}
        )
    )["updateVisitPlan"]
    assert moved["errors"] == [] and moved["visitPlan"]["version"] == 2
    stale = (await gql(UPDATE_PLAN, {"id": made["id"], "v": 1, "i": {"notes": "x"}}))[
        "updateVisitPlan"
    ]
    assert first_error(stale) == ("version", "CONFLICT")
    assert (await gql(DELETE_PLAN, {"id": made["id"], "v": 2}))["deleteVisitPlan"]["errors"] == []
    assert (await gql(GET_PLAN, {"id": made["id"]}))["visitPlan"] is None
    filt = {"customerId": {"eq": mine["id"]}, "id": {"eq": made["id"]}}
    assert (await gql(PLANS, {"first": 5, "filter": filt, "del": True}))["visitPlans"][
        "totalCount"
    ] == 1
    restored = (await gql(RESTORE_PLAN, {"id": made["id"]}))["restoreVisitPlan"]
    assert restored["errors"] == [] and restored["visitPlan"]["deletedAt"] is None
    destroyed = (await gql(DESTROY_PLAN, {"id": made["id"]}))["destroyVisitPlan"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert await _actions(db, world["t"], made["id"]) == [
        "create",
        "update",
        "delete",
        "restore",
        "destroy",
    ]


async def test_do_not_visit_windows_refuse_a_plan(world) -> None:
    gql, cid = world["admin"], world["mine"]["id"]
    before = (await gql(PLANS, {"first": 0}))["visitPlans"]["totalCount"]
    for planned_at in (
        "2026-06-01T12:30:00+08:00",  # lunch, any day
        "2026-06-01T04:30:00Z",  # the same moment in UTC: windows are read in Shanghai time
        "2026-06-03T18:00:00+08:00",  # Wednesday evening
        "2026-06-04T07:59:00+08:00",  # …running into Thursday morning
    ):
        result = (await gql(CREATE_PLAN, {"c": cid, "i": {**PLAN, "plannedAt": planned_at}}))[
            "createVisitPlan"
        ]
        assert result["visitPlan"] is None
        assert first_error(result) == ("input.plannedAt", "INVALID"), (planned_at, result)
    assert (await gql(PLANS, {"first": 0}))["visitPlans"]["totalCount"] == before
    for planned_at in (
        "2026-06-01T14:00:00+08:00",  # the window's end is exclusive
        "2026-06-02T18:00:00+08:00",  # Tuesday evening is fine
        "2026-06-04T08:00:00+08:00",
    ):
        await plan(gql, cid, plannedAt=planned_at)
    # Moving a plan into a window is refused too; the plan keeps its time.
    made = await plan(gql, cid)
    moved = (
        await gql(UPDATE_PLAN, {"id": made["id"], "i": {"plannedAt": "2026-06-01T13:00:00+08:00"}})
    )["updateVisitPlan"]
    assert first_error(moved) == ("input.plannedAt", "INVALID")
    assert "lunch" in moved["errors"][0]["message"]
    assert (await gql(GET_PLAN, {"id": made["id"]}))["visitPlan"]["version"] == 1
    # A customer without windows takes any time.
    await plan(gql, world["other"]["id"], plannedAt="2026-06-01T12:30:00+08:00")


async def test_recording_a_visit_completes_its_plan(db, world) -> None:
    gql, cid = world["admin"], world["mine"]["id"]
    made = await plan(gql, cid)
    visit = await report(
        gql,
        cid,
        planId=made["id"],
        outcome="A",
        content="签约 signed the order",
        problemsSolved="pricing",
        watchNextTime="delivery dates",
        expenses="125.50",
        nextVisitOn="2026-06-15",
    )
    assert visit["plan"] == {"id": made["id"], "status": "DONE"}
    assert visit["outcome"] == "A" and visit["outcomeLabel"] == "deal done"
    assert visit["expenses"] == "125.50" and visit["currency"] == "CNY"
    assert visit["visitor"] == {"name": "Admin"}
    stored = (await gql(GET_PLAN, {"id": made["id"]}))["visitPlan"]
    assert stored["status"] == "DONE" and stored["record"] == {"id": visit["id"], "outcome": "A"}
    assert await _actions(db, world["t"], made["id"]) == ["create", "update"]
    # A plan is carried out once; a cancelled one not at all; another customer's is not found.
    again = (await gql(CREATE_RECORD, {"c": cid, "i": {**VISIT, "planId": made["id"]}}))[
        "createVisitRecord"
    ]
    assert first_error(again) == ("input.planId", "DUPLICATE")
    cancelled = await plan(gql, cid)
    assert (await gql(UPDATE_PLAN, {"id": cancelled["id"], "i": {"status": "CANCELLED"}}))[
        "updateVisitPlan"
    ]["errors"] == []
    refused = (await gql(CREATE_RECORD, {"c": cid, "i": {**VISIT, "planId": cancelled["id"]}}))[
        "createVisitRecord"
    ]
    assert first_error(refused) == ("input.planId", "INVALID")
    elsewhere = await plan(gql, world["other"]["id"])
    wrong = (await gql(CREATE_RECORD, {"c": cid, "i": {**VISIT, "planId": elsewhere["id"]}}))[
        "createVisitRecord"
    ]
    assert first_error(wrong) == ("input.planId", "NOT_FOUND")
    # The refused visit left the plan as it was.
    assert (await gql(GET_PLAN, {"id": elsewhere["id"]}))["visitPlan"]["status"] == "PLANNED"
    # DONE and CANCELLED are final.
    reopened = (await gql(UPDATE_PLAN, {"id": made["id"], "i": {"status": "PLANNED"}}))[
        "updateVisitPlan"
    ]
    assert first_error(reopened) == ("input.status", "INVALID")
    # Naming a plan on update completes it too.
    later = await plan(gql, cid)
    plain = await report(gql, cid)
    linked = (await gql(UPDATE_RECORD, {"id": plain["id"], "i": {"planId": later["id"]}}))[
        "updateVisitRecord"
    ]
    assert linked["errors"] == [] and linked["visitRecord"]["plan"]["status"] == "DONE"


async def test_record_lifecycle_with_audit(db, world) -> None:
    gql, cid = world["admin"], world["mine"]["id"]
    made = await report(gql, cid, currency="usd", expenses="10")
    assert made["currency"] == "USD" and made["expenses"] == "10.00"
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "VisitRecord"
    page = (
        await gql(
            RECORDS,
            {"first": 10, "filter": {"currency": {"eq": "USD"}, "customerId": {"eq": cid}}},
        )
    )["visitRecords"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]]
    changed = (await gql(UPDATE_RECORD, {"id": made["id"], "v": 1, "i": {"outcome": "E"}}))[
        "updateVisitRecord"
    ]
    assert changed["errors"] == [] and changed["visitRecord"]["outcomeLabel"] == "keep watching"
    stale = (await gql(UPDATE_RECORD, {"id": made["id"], "v": 1, "i": {"outcome": "D"}}))[
        "updateVisitRecord"
    ]
    assert first_error(stale) == ("version", "CONFLICT")
    assert (await gql(DELETE_RECORD, {"id": made["id"]}))["deleteVisitRecord"]["errors"] == []
    assert (await gql(GET_RECORD, {"id": made["id"]}))["visitRecord"] is None
    assert (await gql(RESTORE_RECORD, {"id": made["id"]}))["restoreVisitRecord"]["errors"] == []
    destroyed = (await gql(DESTROY_RECORD, {"id": made["id"]}))["destroyVisitRecord"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert await _actions(db, world["t"], made["id"]) == [
        "create",
        "update",
        "delete",
        "restore",
        "destroy",
    ]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"nextVisitOn": "2026-05-31"}, "input.nextVisitOn", "INVALID"),
        ({"nextVisitOn": "2026-06-01"}, "input.nextVisitOn", "INVALID"),  # after, not the same day
        ({"expenses": "-1"}, "input.expenses", "INVALID"),
        ({"expenses": "1.234"}, "input.expenses", "INVALID"),
        ({"currency": "RMB1"}, "input.currency", "INVALID"),
        ({"visitedAt": "2026-06-01T10:30:00"}, "input.visitedAt", "INVALID"),
        ({"content": "x" * 10_001}, "input.content", "TOO_LONG"),
        ({"visitorId": "VXNlcjpub3QtYS11dWlk"}, "input.visitorId", "INVALID"),
    ],
)
async def test_invalid_record_input_names_the_field(world, fields, field, code) -> None:
    gql = world["admin"]
    before = (await gql(RECORDS, {"first": 0}))["visitRecords"]["totalCount"]
    result = (await gql(CREATE_RECORD, {"c": world["mine"]["id"], "i": {**VISIT, **fields}}))[
        "createVisitRecord"
    ]
    assert result["visitRecord"] is None
    assert first_error(result) == (field, code), result
    assert (await gql(RECORDS, {"first": 0}))["visitRecords"]["totalCount"] == before


async def test_next_visit_rule_on_update_and_the_company_day(world) -> None:
    gql = world["admin"]
    # 23:30 in Shanghai on June 1st is still June 1st for the company (15:30 UTC).
    made = await report(gql, world["mine"]["id"], visitedAt="2026-06-01T15:30:00Z")
    same_day = (await gql(UPDATE_RECORD, {"id": made["id"], "i": {"nextVisitOn": "2026-06-01"}}))[
        "updateVisitRecord"
    ]
    assert first_error(same_day) == ("input.nextVisitOn", "INVALID")
    ok = (await gql(UPDATE_RECORD, {"id": made["id"], "i": {"nextVisitOn": "2026-06-02"}}))[
        "updateVisitRecord"
    ]
    assert ok["errors"] == []
    # Moving the visit past its next date is refused as well, naming the date that broke.
    late = (
        await gql(
            UPDATE_RECORD, {"id": made["id"], "i": {"visitedAt": "2026-06-03T09:00:00+08:00"}}
        )
    )["updateVisitRecord"]
    assert first_error(late) == ("input.nextVisitOn", "INVALID")
    stored = (await gql(GET_RECORD, {"id": made["id"]}))["visitRecord"]
    assert stored["nextVisitOn"] == "2026-06-02" and stored["version"] == 2


async def test_invalid_plan_input_and_batches_are_all_or_nothing(world) -> None:
    gql, cid = world["admin"], world["mine"]["id"]
    before = (await gql(PLANS, {"first": 0}))["visitPlans"]["totalCount"]
    for fields, field, code in (
        ({"purpose": ""}, "input.purpose", "REQUIRED"),
        ({"place": "x" * 301}, "input.place", "TOO_LONG"),
        ({"plannedAt": "2026-06-01T10:00:00"}, "input.plannedAt", "INVALID"),
    ):
        result = (await gql(CREATE_PLAN, {"c": cid, "i": {**PLAN, **fields}}))["createVisitPlan"]
        assert first_error(result) == (field, code), result
    batch = (
        await gql(
            CREATE_PLANS,
            {
                "i": [
                    {"customerId": cid, "input": PLAN},
                    {
                        "customerId": cid,
                        "input": {**PLAN, "plannedAt": "2026-06-01T12:10:00+08:00"},
                    },
                ]
            },
        )
    )["createVisitPlans"]
    assert batch["visitPlans"] == [] and first_error(batch) == (
        "inputs.1.input.plannedAt",
        "INVALID",
    )
    assert (await gql(PLANS, {"first": 0}))["visitPlans"]["totalCount"] == before
    ok = (
        await gql(
            CREATE_PLANS,
            {
                "i": [
                    {"customerId": cid, "input": PLAN},
                    {"customerId": world["other"]["id"], "input": PLAN},
                ]
            },
        )
    )["createVisitPlans"]
    assert ok["errors"] == [] and len(ok["visitPlans"]) == 2
    records = (
        await gql(
            CREATE_RECORDS,
            {
                "i": [
                    {"customerId": cid, "input": VISIT},
                    {"customerId": cid, "input": {**VISIT, "expenses": "-3"}},
                ]
            },
        )
    )["createVisitRecords"]
    assert first_error(records) == ("inputs.1.input.expenses", "INVALID")


async def test_other_tenants_visits_do_not_exist(world) -> None:
    a = world["admin"]
    their_plan, their_record = world["b_plan"]["id"], world["b_record"]["id"]
    assert (await a(GET_PLAN, {"id": their_plan}))["visitPlan"] is None
    assert (await a(GET_RECORD, {"id": their_record}))["visitRecord"] is None
    assert (await a(NODE, {"id": their_plan}))["node"] is None
    assert (await a(NODE, {"id": their_record}))["node"] is None
    assert (await a(PLANS, {"first": 50, "search": "镜像计划"}))["visitPlans"]["totalCount"] == 0
    assert (await a(RECORDS, {"first": 50, "search": "镜像拜访"}))["visitRecords"][
        "totalCount"
    ] == 0
    foreign = to_global_id("User", world["b_sales"].user_id)
    for doc, variables, name in (
        (UPDATE_PLAN, {"id": their_plan, "i": {"notes": "hijacked"}}, "updateVisitPlan"),
        (DELETE_PLAN, {"id": their_plan}, "deleteVisitPlan"),
        (RESTORE_PLAN, {"id": their_plan}, "restoreVisitPlan"),
        (DESTROY_PLAN, {"id": their_plan}, "destroyVisitPlan"),
        (UPDATE_RECORD, {"id": their_record, "i": {"outcome": "D"}}, "updateVisitRecord"),
        (DELETE_RECORD, {"id": their_record}, "deleteVisitRecord"),
        (DESTROY_RECORD, {"id": their_record}, "destroyVisitRecord"),
        (CREATE_PLAN, {"c": world["b_customer"]["id"], "i": PLAN}, "createVisitPlan"),
        (CREATE_RECORD, {"c": world["b_customer"]["id"], "i": VISIT}, "createVisitRecord"),
        (
            CREATE_RECORD,
            {"c": world["mine"]["id"], "i": {**VISIT, "planId": their_plan}},
            "createVisitRecord",
        ),
        (
            CREATE_PLAN,
            {"c": world["mine"]["id"], "i": {**PLAN, "visitorId": foreign}},
            "createVisitPlan",
        ),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET_PLAN, {"id": their_plan}))["visitPlan"]
    assert still["purpose"] == "镜像计划 mirrored" and still["status"] == "PLANNED"


async def test_sales_rep_plans_and_reports_own_visits(world) -> None:
    admin, sales = world["admin"], world["sales"]
    theirs = await plan(admin, world["other"]["id"], purpose="admin's plan")
    own = await plan(sales, world["sales_customer"]["id"], purpose="rep's plan")
    assert own["visitor"] == {"name": "李娜"}
    page = (await sales(PLANS, {"first": 50}))["visitPlans"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]]
    assert (await sales(GET_PLAN, {"id": theirs["id"]}))["visitPlan"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE_PLAN, {"id": theirs["id"], "i": {"notes": "x"}}, "updateVisitPlan"),
        (CREATE_PLAN, {"c": world["other"]["id"], "i": PLAN}, "createVisitPlan"),
        (CREATE_RECORD, {"c": world["other"]["id"], "i": VISIT}, "createVisitRecord"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    # The rep cannot put a colleague down as the visitor (own scope).
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = (
        await sales(
            CREATE_RECORD,
            {"c": world["sales_customer"]["id"], "i": {**VISIT, "visitorId": admin_id}},
        )
    )["createVisitRecord"]
    assert first_error(handed) == ("input.visitorId", "FORBIDDEN")
    # Service agents and viewers read; they do not write.
    assert allows(Role.service, "visit_record:read") and not allows(
        Role.service, "visit_plan:create"
    )
    denied = await world["viewer"].post(CREATE_PLAN, {"c": world["mine"]["id"], "i": PLAN})
    body = denied.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await world["viewer"](GET_PLAN, {"id": theirs["id"]}))["visitPlan"]["id"] == theirs[
        "id"
    ]


PAGE = """
{ customers(first: 50) { edges { node { id
    visitPlans(first: 3) { status visitor { name } contact { name } record { outcome } }
    visitRecords(first: 3) { outcome visitor { name } plan { status } } } } } }
"""


async def test_page_with_visits_costs_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "vs-pager")
    gql = await gql_as(t.admin_email)
    for i in range(12):
        c = await create_customer(gql, name=f"Visited {i:02d}")
        p = await plan(gql, c["id"], purpose=f"p{i}")
        await report(gql, c["id"], planId=p["id"], outcome="C")
        await plan(gql, c["id"], purpose=f"q{i}")
    await gql(PAGE)
    counts = []
    for first in (3, 12):
        counter = count_statements()
        data = await gql(PAGE.replace("first: 50", f"first: {first}"))
        edges = data["customers"]["edges"]
        assert len(edges) == first
        assert all(len(e["node"]["visitPlans"]) == 2 and e["node"]["visitRecords"] for e in edges)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
