"""Follow-ups: lifecycle with audit, status/time rules, tenant isolation, scopes, and the constant
statement count of a customer page with its interactions and follow-ups."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry

FIELDS = "id scheduledAt remindAt status doneAt content result customerFeedback nextFollowUpAt version deletedAt owner { name } customer { name }"
CREATE = f"""
mutation($c: ID!, $i: CreateFollowUpInput!) {{
  createFollowUp(customerId: $c, input: $i) {{ followUp {{ {FIELDS} }} errors {{ field code message }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateFollowUpInput!, $v: Int) {{
  updateFollowUp(id: $id, input: $i, version: $v) {{ followUp {{ {FIELDS} }} errors {{ field code message }} }}
}}"""
DELETE = "mutation($id: ID!, $v: Int) { deleteFollowUp(id: $id, version: $v) { followUp { id deletedAt } errors { field code message } } }"
RESTORE = "mutation($id: ID!) { restoreFollowUp(id: $id) { followUp { id deletedAt } errors { field code message } } }"
DESTROY = (
    "mutation($id: ID!) { destroyFollowUp(id: $id) { destroyedId errors { field code message } } }"
)
GET = f"query($id: ID!) {{ followUp(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: FollowUpFilter, $order: [FollowUpOrderBy!], $search: String, $del: Boolean! = false) {
  followUps(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id status content } }
  }
}"""
BASE = {"scheduledAt": "2026-05-10T10:00:00+08:00"}
CREATE_INTERACTION = """
mutation($c: ID!, $i: CreateInteractionInput!) {
  createInteraction(customerId: $c, input: $i) { errors { field code } }
}"""


async def plan(gql, customer_id, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {**BASE, **fields}}))["createFollowUp"]
    assert result["errors"] == [], result
    return result["followUp"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "fu-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="跟进镜像")
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "mine": await create_customer(admin, name="跟进客户"),
        "sales_customer": await create_customer(sales, name="Rep Customer"),
        "b": b,
        "b_customer": b_customer,
        "b_follow_up": await plan(b, b_customer["id"], content="镜像 follow-up"),
        "b_sales": tenant_b.sales,
    }


async def test_plan_do_delete_restore_destroy_with_audit(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    made = await plan(
        gql, mine["id"], remindAt="2026-05-10T09:00:00+08:00", content="Call about the quote"
    )
    assert made["status"] == "PLANNED" and made["owner"] == {"name": "Admin"}
    assert made["customer"] == {"name": "跟进客户"}
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "FollowUp"
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "status": {"eq": "PLANNED"},
                    "remindAt": {"lt": "2026-05-11T00:00:00Z"},
                },
                "order": [{"field": "SCHEDULED_AT", "direction": "ASC"}],
            },
        )
    )["followUps"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]] and page["totalCount"] == 1
    assert (await gql(LIST, {"first": 5, "search": "quote"}))["followUps"]["totalCount"] == 1

    done = (
        await gql(
            UPDATE,
            {
                "id": made["id"],
                "v": 1,
                "i": {
                    "status": "DONE",
                    "doneAt": "2026-05-10T10:30:00+08:00",
                    "result": "Accepted",
                    "customerFeedback": "Happy with the price",
                    "nextFollowUpAt": "2026-06-01T10:00:00+08:00",
                },
            },
        )
    )["updateFollowUp"]
    assert done["errors"] == [] and done["followUp"]["status"] == "DONE"
    stale = (await gql(UPDATE, {"id": made["id"], "i": {"content": "x"}, "v": 1}))["updateFollowUp"]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["errors"][0]["field"] == "version"

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteFollowUp"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["followUp"] is None
    filt = {"customerId": {"eq": mine["id"]}}
    assert (await gql(LIST, {"first": 5, "filter": filt, "del": True}))["followUps"][
        "totalCount"
    ] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreFollowUp"]
    assert restored["errors"] == [] and restored["followUp"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyFollowUp"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["followUp"] is None

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(made["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert list(rows.scalars()) == ["create", "update", "delete", "restore", "destroy"]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"status": "DONE"}, "input.doneAt", "REQUIRED"),
        ({"doneAt": "2026-05-10T10:00:00Z"}, "input.doneAt", "INVALID"),
        ({"status": "CANCELLED", "doneAt": "2026-05-10T10:00:00Z"}, "input.doneAt", "INVALID"),
        ({"remindAt": "2026-05-10T11:00:00+08:00"}, "input.remindAt", "INVALID"),
        (
            {
                "status": "DONE",
                "doneAt": "2026-05-10T10:00:00Z",
                "nextFollowUpAt": "2026-05-10T09:00:00Z",
            },
            "input.nextFollowUpAt",
            "INVALID",
        ),
        ({"scheduledAt": "2026-05-10T10:00:00"}, "input.scheduledAt", "INVALID"),
        ({"content": "x" * 10_001}, "input.content", "TOO_LONG"),
        ({"ownerId": "VXNlcjpub3QtYS11dWlk"}, "input.ownerId", "INVALID"),
    ],
)
async def test_invalid_input_names_the_field(world, fields, field, code) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["followUps"]["totalCount"]
    result = (await gql(CREATE, {"c": mine["id"], "i": {**BASE, **fields}}))["createFollowUp"]
    assert result["followUp"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["followUps"]["totalCount"] == before


async def test_update_rules_see_the_stored_values(world) -> None:
    gql = world["admin"]
    made = await plan(gql, world["mine"]["id"], remindAt="2026-05-10T09:00:00+08:00")
    earlier = (await gql(UPDATE, {"id": made["id"], "i": {"scheduledAt": "2026-05-09T10:00:00Z"}}))[
        "updateFollowUp"
    ]
    assert earlier["errors"][0]["field"] == "input.remindAt"
    cleared = (await gql(UPDATE, {"id": made["id"], "i": {"status": None}}))["updateFollowUp"]
    assert cleared["errors"][0] == {
        "field": "input.status",
        "code": "REQUIRED",
        "message": "cannot be empty",
    }


async def test_other_tenants_follow_ups_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_follow_up"]["id"]
    assert (await a(GET, {"id": theirs}))["followUp"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a('{ followUps(first: 50, search: "镜像") { totalCount } }'))["followUps"][
        "totalCount"
    ] == 0
    foreign_owner = to_global_id("User", world["b_sales"].user_id)
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"content": "hijacked"}}, "updateFollowUp"),
        (DELETE, {"id": theirs}, "deleteFollowUp"),
        (RESTORE, {"id": theirs}, "restoreFollowUp"),
        (DESTROY, {"id": theirs}, "destroyFollowUp"),
        (CREATE, {"c": world["b_customer"]["id"], "i": BASE}, "createFollowUp"),
        (
            CREATE,
            {"c": world["mine"]["id"], "i": {**BASE, "ownerId": foreign_owner}},
            "createFollowUp",
        ),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["followUp"]
    assert still["content"] == "镜像 follow-up" and still["deletedAt"] is None


async def test_sales_rep_sees_only_follow_ups_of_own_customers(world) -> None:
    admin, sales = world["admin"], world["sales"]
    theirs = await plan(admin, world["mine"]["id"], content="admin's")
    own = await plan(sales, world["sales_customer"]["id"], content="rep's")
    assert own["owner"] == {"name": "李娜"}
    page = (await sales(LIST, {"first": 50}))["followUps"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["followUp"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"content": "x"}}, "updateFollowUp"),
        (DELETE, {"id": theirs["id"]}, "deleteFollowUp"),
        (CREATE, {"c": world["mine"]["id"], "i": BASE}, "createFollowUp"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = (
        await sales(
            CREATE, {"c": world["sales_customer"]["id"], "i": {**BASE, "ownerId": admin_id}}
        )
    )["createFollowUp"]
    assert handed["errors"][0]["field"] == "input.ownerId"
    assert handed["errors"][0]["code"] == "FORBIDDEN"


PAGE_WITH_ACTIVITY = """
{ customers(first: 50) { totalCount edges { node { id name
    interactions(first: 3) { subject staff { name } contact { name } customer { name } }
    followUps(first: 3) { status owner { name } customer { name } } } } } }
"""


async def test_page_with_interactions_and_follow_ups_costs_constant_statements(
    db, gql_as, count_statements
) -> None:
    t = await make_tenant(db, "fu-pager")
    gql = await gql_as(t.admin_email)
    for i in range(50):
        c = await create_customer(gql, name=f"Busy {i:02d}")
        for day in range(1 + i % 2):
            out = await gql(
                CREATE_INTERACTION,
                {
                    "c": c["id"],
                    "i": {
                        "occurredAt": f"2026-02-0{day + 1}T09:00:00Z",
                        "channel": "CHAT",
                        "subject": f"s{i}",
                    },
                },
            )
            assert out["createInteraction"]["errors"] == []
            await plan(gql, c["id"], content=f"f{i}-{day}")
    await gql(PAGE_WITH_ACTIVITY)  # warm: the token's membership lookup etc.
    counts = []
    for first in (5, 50):
        counter = count_statements()
        data = await gql(PAGE_WITH_ACTIVITY.replace("first: 50", f"first: {first}"))
        edges = data["customers"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["interactions"] and e["node"]["followUps"] for e in edges)
        counts.append(counter.count)
    # auth + page + count + interactions + follow-ups + users (staff and owners share a loader);
    # the customer loader is primed by the page and contacts are absent here (one more when set).
    assert counts[0] == counts[1], counts
    assert counts[0] <= 7, counts
