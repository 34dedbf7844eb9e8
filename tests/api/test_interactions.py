"""Contact records (interactions): lifecycle with audit, field errors, tenant isolation, scopes."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry

FIELDS = "id occurredAt channel subject content result nextContactOn version deletedAt staff { name } contact { name } customer { name }"
CREATE = f"""
mutation($c: ID!, $i: CreateInteractionInput!) {{
  createInteraction(customerId: $c, input: $i) {{ interaction {{ {FIELDS} }} errors {{ field code message }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateInteractionInput!, $v: Int) {{
  updateInteraction(id: $id, input: $i, version: $v) {{ interaction {{ {FIELDS} }} errors {{ field code message }} }}
}}"""
DELETE = "mutation($id: ID!, $v: Int) { deleteInteraction(id: $id, version: $v) { interaction { id deletedAt } errors { field code message } } }"
RESTORE = "mutation($id: ID!) { restoreInteraction(id: $id) { interaction { id deletedAt } errors { field code message } } }"
DESTROY = "mutation($id: ID!) { destroyInteraction(id: $id) { destroyedId errors { field code message } } }"
GET = f"query($id: ID!) {{ interaction(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $after: String, $filter: InteractionFilter, $order: [InteractionOrderBy!], $search: String, $del: Boolean! = false) {
  interactions(first: $first, after: $after, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id subject channel } }
  }
}"""
BASE = {"occurredAt": "2026-03-02T10:00:00+08:00", "channel": "PHONE"}


async def log(gql, customer_id, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {**BASE, **fields}}))["createInteraction"]
    assert result["errors"] == [], result
    return result["interaction"]


async def contact_of(gql, customer_id, name):
    out = await gql(CREATE_CONTACT, {"c": customer_id, "i": {"name": name}})
    return out["createContact"]["contact"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "ix-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    mine = await create_customer(admin, name="华东贸易")
    other = await create_customer(admin, name="Other Buyer")
    sales_customer = await create_customer(sales, name="Sales Own Ltd")
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="华东贸易")
    b_contact = await contact_of(b, b_customer["id"], "王芳")
    b_interaction = await log(b, b_customer["id"], subject="镜像 call", contactId=b_contact["id"])
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "mine": mine,
        "other": other,
        "sales_customer": sales_customer,
        "contact": await contact_of(admin, mine["id"], "李雷"),
        "other_contact": await contact_of(admin, other["id"], "韩梅梅"),
        "b": b,
        "b_customer": b_customer,
        "b_contact": b_contact,
        "b_interaction": b_interaction,
        "b_sales": tenant_b.sales,
    }


async def _audit(db, tenant, pk):
    async with db.tenant(tenant.ref).read() as session:
        rows = await session.execute(
            select(AuditEntry)
            .where(AuditEntry.entity_id == pk)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return [(r.action, r.entity, r.changes) for r in rows.scalars()]


async def test_create_list_update_delete_restore_destroy(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    made = await log(
        gql,
        mine["id"],
        subject="Quarterly review",
        content="Discussed the renewal",
        contactId=world["contact"]["id"],
        nextContactOn="2026-03-09",
    )
    assert made["staff"] == {"name": "Admin"}, "the staff defaults to whoever logs it"
    assert made["contact"] == {"name": "李雷"} and made["customer"] == {"name": "华东贸易"}
    assert made["channel"] == "PHONE" and made["version"] == 1
    assert (await gql(GET, {"id": made["id"]}))["interaction"]["subject"] == "Quarterly review"
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Interaction"

    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "channel": {"in": ["PHONE", "EMAIL"]},
                    "occurredAt": {"gte": "2026-03-01T00:00:00Z"},
                    "nextContactOn": {"lte": "2026-03-31"},
                },
                "order": [{"field": "OCCURRED_AT", "direction": "DESC"}],
            },
        )
    )["interactions"]
    assert page["totalCount"] == 1 and page["edges"][0]["node"]["id"] == made["id"]
    found = (await gql(LIST, {"first": 10, "search": "renewal"}))["interactions"]
    assert [e["node"]["id"] for e in found["edges"]] == [made["id"]]

    updated = (
        await gql(UPDATE, {"id": made["id"], "i": {"channel": "VISIT", "result": "Signed"}, "v": 1})
    )["updateInteraction"]
    assert updated["errors"] == [] and updated["interaction"]["channel"] == "VISIT"
    assert updated["interaction"]["version"] == 2
    stale = (await gql(UPDATE, {"id": made["id"], "i": {"subject": "x"}, "v": 1}))[
        "updateInteraction"
    ]
    assert stale["errors"] == [
        {"field": "version", "code": "CONFLICT", "message": stale["errors"][0]["message"]}
    ]

    deleted = (await gql(DELETE, {"id": made["id"]}))["deleteInteraction"]
    assert deleted["errors"] == [] and deleted["interaction"]["deletedAt"] is not None
    assert (await gql(GET, {"id": made["id"]}))["interaction"] is None
    filt = {"customerId": {"eq": mine["id"]}}
    assert (await gql(LIST, {"first": 5, "filter": filt}))["interactions"]["totalCount"] == 0
    listed = await gql(LIST, {"first": 5, "filter": filt, "del": True})
    assert listed["interactions"]["totalCount"] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreInteraction"]
    assert restored["errors"] == [] and restored["interaction"]["deletedAt"] is None

    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyInteraction"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(RESTORE, {"id": made["id"]}))["restoreInteraction"]["errors"][0][
        "code"
    ] == "NOT_FOUND"

    entries = await _audit(db, world["t"], from_global_id(made["id"])[1])
    assert [a for a, _, _ in entries] == ["create", "update", "delete", "restore", "destroy"]
    assert {e for _, e, _ in entries} == {"interaction"}
    assert entries[1][2] == {"channel": ["phone", "visit"], "result": [None, "Signed"]}


async def test_customer_lists_its_interactions_latest_first(world) -> None:
    gql, cid = world["admin"], world["other"]["id"]
    for day in ("01", "03", "02"):
        await log(gql, cid, subject=f"day {day}", occurredAt=f"2026-04-{day}T09:00:00+08:00")
    query = "query($id: ID!) { customer(id: $id) { interactions(first: 2) { subject } } }"
    got = (await gql(query, {"id": cid}))["customer"]["interactions"]
    assert [i["subject"] for i in got] == ["day 03", "day 02"]
    body = (
        await gql.post(
            "query($id: ID!) { customer(id: $id) { interactions(first: 1000) { id } } }",
            {"id": cid},
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("contact_of_other_customer", "input.contactId", "NOT_FOUND"),
        ("contact_of_other_tenant", "input.contactId", "NOT_FOUND"),
        ("staff_of_other_tenant", "input.staffUserId", "NOT_FOUND"),
        ("next_before_occurred", "input.nextContactOn", "INVALID"),
        ("naive_timestamp", "input.occurredAt", "INVALID"),
        ("subject_too_long", "input.subject", "TOO_LONG"),
        ("contact_id_of_wrong_type", "input.contactId", "INVALID"),
    ],
)
async def test_invalid_input_names_the_field(world, case, field, code) -> None:
    gql, mine = world["admin"], world["mine"]
    fields = {
        "contact_of_other_customer": {"contactId": world["other_contact"]["id"]},
        "contact_of_other_tenant": {"contactId": world["b_contact"]["id"]},
        "staff_of_other_tenant": {"staffUserId": to_global_id("User", world["b_sales"].user_id)},
        "next_before_occurred": {"nextContactOn": "2026-03-01"},
        "naive_timestamp": {"occurredAt": "2026-03-02T10:00:00"},
        "subject_too_long": {"subject": "x" * 201},
        "contact_id_of_wrong_type": {"contactId": mine["id"]},
    }[case]
    before = (await gql(LIST, {"first": 0}))["interactions"]["totalCount"]
    result = (await gql(CREATE, {"c": mine["id"], "i": {**BASE, **fields}}))["createInteraction"]
    assert result["interaction"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["interactions"]["totalCount"] == before


async def test_dates_compare_in_the_companys_zone(world) -> None:
    gql, mine = world["admin"], world["mine"]
    # 23:30 UTC on the 9th is 07:30 on the 10th in Shanghai (the tenant's zone).
    late = {"occurredAt": "2026-01-09T23:30:00Z"}
    made = await log(gql, mine["id"], **late, nextContactOn="2026-01-10")
    refused = (
        await gql(CREATE, {"c": mine["id"], "i": {**BASE, **late, "nextContactOn": "2026-01-09"}})
    )["createInteraction"]
    assert refused["errors"][0]["field"] == "input.nextContactOn"
    moved = (
        await gql(UPDATE, {"id": made["id"], "i": {"occurredAt": "2026-01-11T09:00:00+08:00"}})
    )["updateInteraction"]
    assert moved["errors"][0]["field"] == "input.nextContactOn", "checked against stored values"


async def test_other_tenants_interactions_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_interaction"]["id"]
    assert (await a(GET, {"id": theirs}))["interaction"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    listed = await a('{ interactions(first: 50, search: "镜像") { totalCount } }')
    assert listed["interactions"]["totalCount"] == 0
    by_customer = await a(
        LIST, {"first": 5, "filter": {"customerId": {"eq": world["b_customer"]["id"]}}}
    )
    assert by_customer["interactions"]["totalCount"] == 0
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"subject": "hijacked"}}, "updateInteraction"),
        (DELETE, {"id": theirs}, "deleteInteraction"),
        (RESTORE, {"id": theirs}, "restoreInteraction"),
        (DESTROY, {"id": theirs}, "destroyInteraction"),
        (CREATE, {"c": world["b_customer"]["id"], "i": BASE}, "createInteraction"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["interaction"]
    assert still["subject"] == "镜像 call" and still["deletedAt"] is None
    assert still["contact"] == {"name": "王芳"}


async def test_sales_rep_sees_only_interactions_of_own_customers(world) -> None:
    admin, sales = world["admin"], world["sales"]
    theirs = await log(admin, world["mine"]["id"], subject="admin's call")
    own = await log(sales, world["sales_customer"]["id"], subject="rep's call")
    assert own["staff"] == {"name": "李娜"}
    page = (await sales(LIST, {"first": 50}))["interactions"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["interaction"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    result = (await sales(UPDATE, {"id": theirs["id"], "i": {"subject": "mine now"}}))[
        "updateInteraction"
    ]
    assert result["errors"][0]["code"] == "NOT_FOUND"
    planted = (await sales(CREATE, {"c": world["mine"]["id"], "i": BASE}))["createInteraction"]
    assert planted["errors"][0] == {
        "field": "input.customerId",
        "code": "NOT_FOUND",
        "message": "customer not found",
    }
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = (
        await sales(
            CREATE, {"c": world["sales_customer"]["id"], "i": {**BASE, "staffUserId": admin_id}}
        )
    )["createInteraction"]
    assert handed["errors"][0]["field"] == "input.staffUserId"
    assert handed["errors"][0]["code"] == "FORBIDDEN"
