"""Customer lifecycle history: an event is written in the same transaction whenever a customer's
stage is set on create or changed on update (not when it stays), with the reason given; the
history is read-only, scoped through the customer, isolated between tenants, and a page of
customers with their histories costs a constant number of statements."""

from __future__ import annotations

from crmtest import make_tenant
from gqldocs import NODE

from crm_core.identity.permissions import MATRIX, allows
from crm_core.tenants.models import Role

ERRORS = "errors { field code message }"
HISTORY = "lifecycleHistory(first: 10) { id fromStage toStage changedAt reason changedBy { name } }"
CREATE = f"""
mutation($i: CreateCustomerInput!) {{
  createCustomer(input: $i) {{ customer {{ id lifecycleStage {HISTORY} }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateCustomerInput!) {{
  updateCustomer(id: $id, input: $i) {{ customer {{ id lifecycleStage version {HISTORY} }} {ERRORS} }}
}}"""
GET = f"query($id: ID!) {{ customer(id: $id) {{ id lifecycleStage version {HISTORY} }} }}"
EVENTS = """
query($first: Int, $after: String, $filter: CustomerLifecycleEventFilter, $order: [CustomerLifecycleEventOrderBy!]) {
  customerLifecycleEvents(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id fromStage toStage reason customer { id name } } }
  }
}"""


async def make(gql, **fields):
    result = (await gql(CREATE, {"i": {"kind": "COMPANY", **fields}}))["createCustomer"]
    assert result["errors"] == [], result
    return result["customer"]


async def change(gql, customer_id, **fields):
    return (await gql(UPDATE, {"id": customer_id, "i": fields}))["updateCustomer"]


async def test_events_on_create_and_on_each_change_with_reason(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    made = await make(gql, name="生命周期客户", lifecycleStage="LEAD", lifecycleReason="展会名片")
    [created] = made["lifecycleHistory"]
    assert (created["fromStage"], created["toStage"], created["reason"]) == (
        None,
        "LEAD",
        "展会名片",
    )
    assert created["changedBy"] == {"name": "Admin"}
    # Without a stage the default (NEW) is what the customer was created with.
    plain = await make(gql, name="Default Stage Ltd")
    assert [(e["fromStage"], e["toStage"], e["reason"]) for e in plain["lifecycleHistory"]] == [
        (None, "NEW", None)
    ]

    moved = await change(gql, made["id"], lifecycleStage="NEW", lifecycleReason="first order")
    assert moved["errors"] == []
    # Unchanged stage, or no stage at all: no event, and a lone reason is not kept.
    same = await change(gql, made["id"], lifecycleStage="NEW", lifecycleReason="again?")
    assert same["errors"] == []
    other = await change(gql, made["id"], industry="制造业", lifecycleReason="ignored")
    assert other["errors"] == []
    churned = await change(gql, made["id"], lifecycleStage="CHURNED")
    history = churned["customer"]["lifecycleHistory"]
    assert [(e["fromStage"], e["toStage"], e["reason"]) for e in history] == [
        ("NEW", "CHURNED", None),
        ("LEAD", "NEW", "first order"),
        (None, "LEAD", "展会名片"),
    ]
    assert (await gql(NODE, {"id": history[0]["id"]}))["node"]["__typename"] == (
        "CustomerLifecycleEvent"
    )

    page = (
        await gql(
            EVENTS,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": made["id"]},
                    "toStage": {"in": ["NEW", "CHURNED"]},
                    "changedAt": {"gte": "2020-01-01T00:00:00Z"},
                },
                "order": [{"field": "CHANGED_AT", "direction": "DESC"}],
            },
        )
    )["customerLifecycleEvents"]
    assert page["totalCount"] == 2
    assert {e["node"]["toStage"] for e in page["edges"]} == {"NEW", "CHURNED"}
    assert all(e["node"]["customer"]["id"] == made["id"] for e in page["edges"])
    first = (await gql(EVENTS, {"first": 1, "filter": {"customerId": {"eq": made["id"]}}}))[
        "customerLifecycleEvents"
    ]
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == 3
    rest = (
        await gql(
            EVENTS,
            {
                "first": 5,
                "after": first["pageInfo"]["endCursor"],
                "filter": {"customerId": {"eq": made["id"]}},
            },
        )
    )["customerLifecycleEvents"]
    assert len(rest["edges"]) == 2


async def test_a_failed_update_writes_no_event(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    made = await make(gql, name="Rollback Ltd", lifecycleStage="LEAD")
    for fields, field, code in (
        ({"lifecycleStage": "LOYAL", "email": "not-an-email"}, "input.email", "INVALID"),
        (
            {"lifecycleStage": "LOYAL", "lifecycleReason": "x" * 2001},
            "input.lifecycleReason",
            "TOO_LONG",
        ),
    ):
        result = await change(gql, made["id"], **fields)
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code)
    stored = (await gql(GET, {"id": made["id"]}))["customer"]
    assert stored["lifecycleStage"] == "LEAD" and len(stored["lifecycleHistory"]) == 1
    bad = (
        await gql(CREATE, {"i": {"kind": "COMPANY", "name": "x", "lifecycleReason": "y" * 2001}})
    )["createCustomer"]
    assert bad["customer"] is None and bad["errors"][0]["field"] == "input.lifecycleReason"


async def test_history_is_isolated_and_scoped_through_the_customer(db, gql_as, tenant_b) -> None:
    t = await make_tenant(db, "lc-alpha")
    admin, sales, viewer = (
        await gql_as(t.admin_email),
        await gql_as(t.sales_email),
        await gql_as(t.viewer_email),
    )
    b = await gql_as(tenant_b.admin_email)
    theirs = await make(b, name="镜像周期", lifecycleStage="LOYAL", lifecycleReason="mirrored")
    their_event = theirs["lifecycleHistory"][0]["id"]
    admins = await make(admin, name="Admin's Customer", lifecycleStage="LEAD")
    reps = await make(sales, name="Rep's Customer", lifecycleStage="LEAD")
    assert (await change(sales, reps["id"], lifecycleStage="NEW"))["errors"] == []

    # Another tenant's events do not exist: not in lists, not by node, not by customer.
    all_a = (await admin(EVENTS, {"first": 50}))["customerLifecycleEvents"]
    ids = {e["node"]["customer"]["id"] for e in all_a["edges"]}
    assert ids == {admins["id"], reps["id"]} and all_a["totalCount"] == 3
    assert (await admin(NODE, {"id": their_event}))["node"] is None
    assert (await admin(GET, {"id": theirs["id"]}))["customer"] is None
    by_customer = {"customerId": {"eq": theirs["id"]}}
    assert (await admin(EVENTS, {"first": 5, "filter": by_customer}))["customerLifecycleEvents"][
        "totalCount"
    ] == 0
    assert len((await b(GET, {"id": theirs["id"]}))["customer"]["lifecycleHistory"]) == 1

    # An own-scope rep sees the history of their own customers only.
    rep_page = (await sales(EVENTS, {"first": 50}))["customerLifecycleEvents"]
    assert {e["node"]["customer"]["id"] for e in rep_page["edges"]} == {reps["id"]}
    assert rep_page["totalCount"] == 2
    admins_event = (await admin(GET, {"id": admins["id"]}))["customer"]["lifecycleHistory"][0]
    assert (await sales(NODE, {"id": admins_event["id"]}))["node"] is None
    # Every role that reads customers reads their history; nobody writes it.
    assert all(allows(r, "lifecycle:read") for r in Role if allows(r, "customer:read"))
    assert not any(
        p.startswith("lifecycle:") and p != "lifecycle:read" for g in MATRIX.values() for p in g
    )
    seen = (await viewer(GET, {"id": reps["id"]}))["customer"]["lifecycleHistory"]
    assert [e["toStage"] for e in seen] == ["NEW", "LEAD"]
    # A deleted customer's history goes with it from lists.
    deleted = await admin(
        "mutation($id: ID!) { deleteCustomer(id: $id) { errors { code } } }", {"id": admins["id"]}
    )
    assert deleted["deleteCustomer"]["errors"] == []
    after = (await admin(EVENTS, {"first": 50}))["customerLifecycleEvents"]
    assert {e["node"]["customer"]["id"] for e in after["edges"]} == {reps["id"]}


PAGE = """
{ customers(first: 50) { edges { node { id
    lifecycleHistory(first: 5) { toStage changedBy { name } customer { id } } } } } }
"""


async def test_page_with_histories_costs_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "lc-pager")
    gql = await gql_as(t.admin_email)
    for i in range(12):
        c = await make(gql, name=f"Stage {i:02d}", lifecycleStage="LEAD")
        await change(gql, c["id"], lifecycleStage="NEW")
    await gql(PAGE)
    counts = []
    for first in (3, 12):
        counter = count_statements()
        edges = (await gql(PAGE.replace("first: 50", f"first: {first}")))["customers"]["edges"]
        assert len(edges) == first and all(len(e["node"]["lifecycleHistory"]) == 2 for e in edges)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
