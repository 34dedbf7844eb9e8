"""Requirement analyses (客户需求分析表): lifecycle with audit, the implementation-status
workflow, field errors that write nothing, bulk create, Customer.requirementAnalyses, tenant
isolation, data scope, permissions and the constant statement count of a customer page."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry

FIELDS = (
    "id summary productFeatures serviceContent desiredDeliveryOn priority analysis "
    "proposedSolution implementationStatus effect version deletedAt "
    "owner { name } contact { name } customer { name }"
)
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($c: ID!, $i: CreateRequirementAnalysisInput!) {{
  createRequirementAnalysis(customerId: $c, input: $i) {{ requirementAnalysis {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateRequirementAnalysisItemInput!]!) {{
  createRequirementAnalyses(inputs: $i) {{ requirementAnalyses {{ id summary }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateRequirementAnalysisInput!, $v: Int) {{
  updateRequirementAnalysis(id: $id, input: $i, version: $v) {{ requirementAnalysis {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteRequirementAnalysis(id: $id, version: $v) {{ requirementAnalysis {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreRequirementAnalysis(id: $id) {{ requirementAnalysis {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = f"mutation($id: ID!) {{ destroyRequirementAnalysis(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ requirementAnalysis(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: RequirementAnalysisFilter, $order: [RequirementAnalysisOrderBy!], $search: String, $del: Boolean! = false) {
  requirementAnalyses(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id summary priority implementationStatus } }
  }
}"""
BASE = {"summary": "需要净水方案 water purification for 3 floors"}


async def record(gql, customer_id, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {**BASE, **fields}}))[
        "createRequirementAnalysis"
    ]
    assert result["errors"] == [], result
    return result["requirementAnalysis"]


async def move(gql, record_id, **fields):
    return (await gql(UPDATE, {"id": record_id, "i": fields}))["updateRequirementAnalysis"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "rq-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="需求镜像客户")
    mine = await create_customer(admin, name="需求客户")
    contact = (await admin(CREATE_CONTACT, {"c": mine["id"], "i": {"name": "王需求"}}))[
        "createContact"
    ]["contact"]
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "viewer": await gql_as(t.viewer_email),
        "mine": mine,
        "contact": contact,
        "other": await create_customer(admin, name="需求别家"),
        "sales_customer": await create_customer(sales, name="Rep Requirement Customer"),
        "b": b,
        "b_customer": b_customer,
        "b_record": await record(b, b_customer["id"], summary="镜像需求 mirrored"),
        "b_sales": tenant_b.sales,
    }


async def test_create_read_update_delete_restore_destroy_with_audit(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    made = await record(
        gql,
        mine["id"],
        contactId=world["contact"]["id"],
        productFeatures="RO membrane, 400G",
        serviceContent="Installation and yearly filter change",
        desiredDeliveryOn="2026-07-01",
        priority="HIGH",
        analysis="Hard water",
        proposedSolution="净水器 Purifier X1 ×3",
    )
    assert made["implementationStatus"] == "PROPOSED" and made["priority"] == "HIGH"
    assert made["owner"] == {"name": "Admin"} and made["contact"] == {"name": "王需求"}
    assert made["customer"] == {"name": "需求客户"} and made["desiredDeliveryOn"] == "2026-07-01"
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "RequirementAnalysis"
    admin_id = to_global_id("User", world["t"].admin.user_id)
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "ownerId": {"eq": admin_id},
                    "priority": {"in": ["HIGH", "URGENT"]},
                    "desiredDeliveryOn": {"gte": "2026-06-01"},
                },
                "order": [{"field": "DESIRED_DELIVERY_ON", "direction": "ASC"}],
            },
        )
    )["requirementAnalyses"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]] and page["totalCount"] == 1
    for term in ("membrane", "jingshui"):
        found = await gql(LIST, {"first": 5, "search": term})
        assert found["requirementAnalyses"]["totalCount"] == 1, term

    updated = (
        await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"implementationStatus": "ACCEPTED"}})
    )["updateRequirementAnalysis"]
    assert updated["errors"] == [] and updated["requirementAnalysis"]["version"] == 2
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"effect": "x"}}))[
        "updateRequirementAnalysis"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["errors"][0]["field"] == "version"

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteRequirementAnalysis"][
        "errors"
    ] == []
    assert (await gql(GET, {"id": made["id"]}))["requirementAnalysis"] is None
    filt = {"customerId": {"eq": mine["id"]}}
    gone = await gql(LIST, {"first": 5, "filter": filt, "del": True})
    assert gone["requirementAnalyses"]["totalCount"] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreRequirementAnalysis"]
    assert restored["errors"] == [] and restored["requirementAnalysis"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyRequirementAnalysis"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["requirementAnalysis"] is None

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.entity)
            .where(AuditEntry.entity_id == from_global_id(made["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert [(a, e) for a, e in rows] == [
            (action, "requirement")
            for action in ("create", "update", "delete", "restore", "destroy")
        ]


async def test_status_workflow(world) -> None:
    gql = world["admin"]
    made = await record(gql, world["mine"]["id"])
    skipped = await move(gql, made["id"], implementationStatus="IMPLEMENTED")
    assert (skipped["errors"][0]["field"], skipped["errors"][0]["code"]) == (
        "input.implementationStatus",
        "INVALID",
    )
    for status in ("ACCEPTED", "IN_PROGRESS", "IMPLEMENTED"):
        assert (await move(gql, made["id"], implementationStatus=status))["errors"] == [], status
    done = await move(gql, made["id"], effect="Water quality passed the test")
    assert done["requirementAnalysis"]["effect"] == "Water quality passed the test"
    back = await move(gql, made["id"], implementationStatus="PROPOSED")
    assert back["errors"][0]["field"] == "input.implementationStatus"
    # Every analysis starts proposed: the create input has no status at all.
    response = await gql.post(
        CREATE, {"c": world["mine"]["id"], "i": {**BASE, "implementationStatus": "ACCEPTED"}}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"summary": ""}, "input.summary", "REQUIRED"),
        ({"summary": "x" * 10_001}, "input.summary", "TOO_LONG"),
        ({"analysis": "x" * 10_001}, "input.analysis", "TOO_LONG"),
        ({"desiredDeliveryOn": "2026-02-30"}, None, None),
        ({"ownerId": "VXNlcjpub3QtYS11dWlk"}, "input.ownerId", "INVALID"),
        ({"contactId": "Q29udGFjdDpub3Q="}, "input.contactId", "INVALID"),
    ],
)
async def test_invalid_input_names_the_field(world, fields, field, code) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["requirementAnalyses"]["totalCount"]
    if field is None:  # not a date at all: refused by the schema
        response = await gql.post(CREATE, {"c": mine["id"], "i": {**BASE, **fields}})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    else:
        result = (await gql(CREATE, {"c": mine["id"], "i": {**BASE, **fields}}))[
            "createRequirementAnalysis"
        ]
        assert result["requirementAnalysis"] is None
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code)
    assert (await gql(LIST, {"first": 0}))["requirementAnalyses"]["totalCount"] == before


async def test_update_errors_write_nothing(world) -> None:
    gql = world["admin"]
    made = await record(gql, world["mine"]["id"], analysis="first")
    other_contact = (
        await gql(CREATE_CONTACT, {"c": world["other"]["id"], "i": {"name": "别家联系人"}})
    )["createContact"]["contact"]
    for fields, field, code in (
        ({"summary": None}, "input.summary", "REQUIRED"),
        ({"priority": None}, "input.priority", "REQUIRED"),
        ({"ownerId": None}, "input.ownerId", "REQUIRED"),
        ({"analysis": "changed", "contactId": other_contact["id"]}, "input.contactId", "NOT_FOUND"),
        (
            {"analysis": "changed", "implementationStatus": "IN_PROGRESS"},
            "input.implementationStatus",
            "INVALID",
        ),
    ):
        result = await move(gql, made["id"], **fields)
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), fields
    stored = (await gql(GET, {"id": made["id"]}))["requirementAnalysis"]
    assert stored["analysis"] == "first" and stored["version"] == 1


async def test_bulk_create_is_all_or_nothing(world) -> None:
    gql, mine, other = world["admin"], world["mine"]["id"], world["other"]["id"]
    bad = (
        await gql(
            CREATE_MANY,
            {
                "i": [
                    {"customerId": mine, "input": {"summary": "bulk one"}},
                    {"customerId": world["b_customer"]["id"], "input": {"summary": "bulk two"}},
                ]
            },
        )
    )["createRequirementAnalyses"]
    assert bad["requirementAnalyses"] == []
    assert (bad["errors"][0]["field"], bad["errors"][0]["code"]) == (
        "inputs.1.customerId",
        "NOT_FOUND",
    )
    garbled = (await gql(CREATE_MANY, {"i": [{"customerId": "nope", "input": {"summary": "x"}}]}))[
        "createRequirementAnalyses"
    ]
    assert garbled["errors"][0]["field"] == "inputs.0.customerId"
    assert (await gql(LIST, {"first": 5, "search": "bulk one"}))["requirementAnalyses"][
        "totalCount"
    ] == 0
    good = (
        await gql(
            CREATE_MANY,
            {
                "i": [
                    {"customerId": mine, "input": {"summary": "bulk three"}},
                    {"customerId": other, "input": {"summary": "bulk four", "priority": "URGENT"}},
                ]
            },
        )
    )["createRequirementAnalyses"]
    assert good["errors"] == [] and len(good["requirementAnalyses"]) == 2


async def test_other_tenants_analyses_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_record"]["id"]
    assert (await a(GET, {"id": theirs}))["requirementAnalysis"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    found = await a(LIST, {"first": 50, "search": "镜像需求"})
    assert found["requirementAnalyses"]["totalCount"] == 0
    foreign = to_global_id("User", world["b_sales"].user_id)
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"analysis": "hijacked"}}, "updateRequirementAnalysis"),
        (DELETE, {"id": theirs}, "deleteRequirementAnalysis"),
        (RESTORE, {"id": theirs}, "restoreRequirementAnalysis"),
        (DESTROY, {"id": theirs}, "destroyRequirementAnalysis"),
        (CREATE, {"c": world["b_customer"]["id"], "i": BASE}, "createRequirementAnalysis"),
        (
            CREATE,
            {"c": world["mine"]["id"], "i": {**BASE, "ownerId": foreign}},
            "createRequirementAnalysis",
        ),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["requirementAnalysis"]
    assert still["summary"] == "镜像需求 mirrored" and still["deletedAt"] is None


async def test_sales_rep_sees_only_own_customers_and_viewer_cannot_write(world) -> None:
    admin, sales = world["admin"], world["sales"]
    theirs = await record(admin, world["mine"]["id"], summary="admin's need")
    own = await record(sales, world["sales_customer"]["id"], summary="rep's need")
    page = (await sales(LIST, {"first": 50}))["requirementAnalyses"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["requirementAnalysis"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"analysis": "x"}}, "updateRequirementAnalysis"),
        (DELETE, {"id": theirs["id"]}, "deleteRequirementAnalysis"),
        (CREATE, {"c": world["mine"]["id"], "i": BASE}, "createRequirementAnalysis"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    handed = await move(sales, own["id"], ownerId=to_global_id("User", world["t"].admin.user_id))
    assert (handed["errors"][0]["field"], handed["errors"][0]["code"]) == (
        "input.ownerId",
        "FORBIDDEN",
    )
    viewer = world["viewer"]
    assert (await viewer(GET, {"id": theirs["id"]}))["requirementAnalysis"]["summary"]
    response = await viewer.post(CREATE, {"c": world["mine"]["id"], "i": BASE})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    response = await viewer.post(UPDATE, {"id": theirs["id"], "i": {"analysis": "x"}})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


PAGE = """
{ customers(first: 50) { totalCount edges { node { id name
    requirementAnalyses(first: 3) { summary owner { name } contact { name } customer { name } }
} } } }
"""


async def test_customer_page_with_analyses_costs_constant_statements(
    db, gql_as, count_statements
) -> None:
    t = await make_tenant(db, "rq-pager")
    gql = await gql_as(t.admin_email)
    for i in range(50):
        c = await create_customer(gql, name=f"Needy {i:02d}")
        for n in range(1 + i % 2):
            await record(gql, c["id"], summary=f"need {i}-{n}")
    await gql(PAGE)  # warm
    counts = []
    for first in (5, 50):
        counter = count_statements()
        data = await gql(PAGE.replace("first: 50", f"first: {first}"))
        edges = data["customers"]["edges"]
        assert len(edges) == first and all(e["node"]["requirementAnalyses"] for e in edges)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 6, counts
