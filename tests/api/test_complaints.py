"""Complaints and feedback: lifecycle with audit, the status workflow, the SLA default from the
severity (and a tenant's override), satisfaction rules, tenant isolation, scopes, and the constant
statement count of a customer page with its complaints and service tickets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role, Tenant

FIELDS = (
    "id kind description productOrService customerExpectation severity status receivedAt "
    "slaDueAt handledAt measures resolution resolvedAt satisfaction version deletedAt "
    "assignee { name } contact { name } customer { name }"
)
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($c: ID!, $i: CreateComplaintInput!) {{
  createComplaint(customerId: $c, input: $i) {{ complaint {{ {FIELDS} }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateComplaintInput!, $v: Int) {{
  updateComplaint(id: $id, input: $i, version: $v) {{ complaint {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteComplaint(id: $id, version: $v) {{ complaint {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreComplaint(id: $id) {{ complaint {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = f"mutation($id: ID!) {{ destroyComplaint(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ complaint(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: ComplaintFilter, $order: [ComplaintOrderBy!], $search: String, $del: Boolean! = false) {
  complaints(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id status severity description } }
  }
}"""
RECEIVED = "2026-05-10T10:00:00+08:00"
BASE = {"kind": "COMPLAINT", "description": "漏水投诉 the tap leaks", "receivedAt": RECEIVED}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def lodge(gql, customer_id, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {**BASE, **fields}}))["createComplaint"]
    assert result["errors"] == [], result
    return result["complaint"]


async def move(gql, complaint_id, **fields):
    return (await gql(UPDATE, {"id": complaint_id, "i": fields}))["updateComplaint"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "cp-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="投诉镜像客户")
    mine = await create_customer(admin, name="投诉客户")
    contact = (await admin(CREATE_CONTACT, {"c": mine["id"], "i": {"name": "王投诉"}}))[
        "createContact"
    ]["contact"]
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "mine": mine,
        "contact": contact,
        "other": await create_customer(admin, name="投诉别家"),
        "sales_customer": await create_customer(sales, name="Rep Complaint Customer"),
        "b": b,
        "b_customer": b_customer,
        "b_complaint": await lodge(b, b_customer["id"], description="镜像投诉 mirrored"),
        "b_sales": tenant_b.sales,
    }


async def test_lodge_handle_delete_restore_destroy_with_audit(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    admin_id = to_global_id("User", world["t"].admin.user_id)
    made = await lodge(
        gql,
        mine["id"],
        severity="HIGH",
        contactId=world["contact"]["id"],
        assigneeId=admin_id,
        productOrService="净水器 Purifier X",
        customerExpectation="Replace it",
    )
    assert made["status"] == "OPEN" and made["assignee"] == {"name": "Admin"}
    assert made["contact"] == {"name": "王投诉"} and made["customer"] == {"name": "投诉客户"}
    assert at(made["slaDueAt"]) - at(made["receivedAt"]) == timedelta(hours=24)
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Complaint"
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "assigneeId": {"eq": admin_id},
                    "severity": {"in": ["HIGH", "CRITICAL"]},
                    "or": [{"status": {"eq": "OPEN"}}, {"status": {"eq": "IN_PROGRESS"}}],
                    "receivedAt": {"gte": "2026-05-01T00:00:00Z", "lt": "2026-06-01T00:00:00Z"},
                },
                "order": [{"field": "SLA_DUE_AT", "direction": "ASC"}],
            },
        )
    )["complaints"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]] and page["totalCount"] == 1
    assert (await gql(LIST, {"first": 5, "search": "Purifier"}))["complaints"]["totalCount"] == 1

    handling = (
        await gql(
            UPDATE,
            {
                "id": made["id"],
                "v": 1,
                "i": {
                    "status": "IN_PROGRESS",
                    "handledAt": "2026-05-10T12:00:00+08:00",
                    "measures": "Sent a technician",
                },
            },
        )
    )["updateComplaint"]
    assert handling["errors"] == [] and handling["complaint"]["status"] == "IN_PROGRESS"
    stale = (await gql(UPDATE, {"id": made["id"], "i": {"measures": "x"}, "v": 1}))[
        "updateComplaint"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["errors"][0]["field"] == "version"

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteComplaint"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["complaint"] is None
    filt = {"customerId": {"eq": mine["id"]}}
    assert (await gql(LIST, {"first": 5, "filter": filt, "del": True}))["complaints"][
        "totalCount"
    ] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreComplaint"]
    assert restored["errors"] == [] and restored["complaint"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyComplaint"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["complaint"] is None

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(made["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert list(rows.scalars()) == ["create", "update", "delete", "restore", "destroy"]


async def test_status_workflow_valid_invalid_and_reopen(world) -> None:
    gql = world["admin"]
    made = await lodge(gql, world["mine"]["id"])
    skipped = await move(gql, made["id"], status="RESOLVED")
    assert skipped["complaint"] is None
    assert (skipped["errors"][0]["field"], skipped["errors"][0]["code"]) == (
        "input.status",
        "INVALID",
    )
    assert (await move(gql, made["id"], status="IN_PROGRESS"))["errors"] == []
    early = await move(gql, made["id"], satisfaction=5)
    assert (early["errors"][0]["field"], early["errors"][0]["code"]) == (
        "input.satisfaction",
        "INVALID",
    )
    resolved = await move(gql, made["id"], status="RESOLVED", resolution="Replaced", satisfaction=4)
    assert resolved["errors"] == [], resolved
    assert resolved["complaint"]["resolvedAt"] is not None
    assert resolved["complaint"]["satisfaction"] == 4
    reopened = await move(gql, made["id"], status="IN_PROGRESS")
    assert reopened["errors"] == []
    assert reopened["complaint"]["resolvedAt"] is None
    assert reopened["complaint"]["satisfaction"] is None
    given = "2026-05-12T09:00:00+08:00"
    again = await move(gql, made["id"], status="RESOLVED", resolvedAt=given)
    assert again["errors"] == [] and at(again["complaint"]["resolvedAt"]) == at(given)
    closed = await move(gql, made["id"], status="CLOSED", satisfaction=5)
    assert closed["errors"] == [] and closed["complaint"]["satisfaction"] == 5
    for status in ("IN_PROGRESS", "OPEN", "RESOLVED"):
        final = await move(gql, made["id"], status=status)
        assert final["errors"][0]["field"] == "input.status", final
    assert (await gql(GET, {"id": made["id"]}))["complaint"]["status"] == "CLOSED"


async def test_sla_default_from_severity_and_tenant_override(db, world) -> None:
    gql, cid = world["admin"], world["mine"]["id"]
    for severity, hours in (("CRITICAL", 4), ("HIGH", 24), ("MEDIUM", 72), ("LOW", 168)):
        made = await lodge(gql, cid, severity=severity)
        assert at(made["slaDueAt"]) - at(made["receivedAt"]) == timedelta(hours=hours), severity
    default = await lodge(gql, cid)
    assert default["severity"] == "MEDIUM"
    explicit = await lodge(gql, cid, slaDueAt="2026-05-10T11:00:00+08:00")
    assert at(explicit["slaDueAt"]) == at("2026-05-10T11:00:00+08:00")
    # A new severity moves the due time.
    raised = (await move(gql, default["id"], severity="CRITICAL"))["complaint"]
    assert at(raised["slaDueAt"]) - at(raised["receivedAt"]) == timedelta(hours=4)

    async with db.core_transaction() as session:
        row = await session.get(Tenant, world["t"].ref.id)
        row.settings = {**row.settings, "complaint_sla_hours": {"critical": 2, "low": "bad"}}
    try:
        critical = await lodge(gql, cid, severity="CRITICAL")
        assert at(critical["slaDueAt"]) - at(critical["receivedAt"]) == timedelta(hours=2)
        low = await lodge(gql, cid, severity="LOW")  # a malformed override keeps the default
        assert at(low["slaDueAt"]) - at(low["receivedAt"]) == timedelta(hours=168)
    finally:
        async with db.core_transaction() as session:
            row = await session.get(Tenant, world["t"].ref.id)
            row.settings = {k: v for k, v in row.settings.items() if k != "complaint_sla_hours"}
    # The other tenant keeps the product defaults.
    theirs = await lodge(world["b"], world["b_customer"]["id"], severity="CRITICAL")
    assert at(theirs["slaDueAt"]) - at(theirs["receivedAt"]) == timedelta(hours=4)


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"description": ""}, "input.description", "REQUIRED"),
        ({"description": "x" * 10_001}, "input.description", "TOO_LONG"),
        ({"receivedAt": "2026-05-10T10:00:00"}, "input.receivedAt", "INVALID"),
        ({"slaDueAt": "2026-05-09T10:00:00+08:00"}, "input.slaDueAt", "INVALID"),
        ({"handledAt": "2026-05-09T10:00:00+08:00"}, "input.handledAt", "INVALID"),
        ({"assigneeId": "VXNlcjpub3QtYS11dWlk"}, "input.assigneeId", "INVALID"),
        ({"productOrService": "x" * 201}, "input.productOrService", "TOO_LONG"),
    ],
)
async def test_invalid_input_names_the_field(world, fields, field, code) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["complaints"]["totalCount"]
    result = (await gql(CREATE, {"c": mine["id"], "i": {**BASE, **fields}}))["createComplaint"]
    assert result["complaint"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["complaints"]["totalCount"] == before


async def test_update_errors_write_nothing(world) -> None:
    gql = world["admin"]
    made = await lodge(gql, world["mine"]["id"], measures="first")
    for fields, field, code in (
        ({"satisfaction": 6}, "input.satisfaction", "INVALID"),
        ({"status": None}, "input.status", "REQUIRED"),
        ({"measures": "changed", "status": "CLOSED"}, "input.status", "INVALID"),
    ):
        result = await move(gql, made["id"], **fields)
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code)
    assert (await move(gql, made["id"], contactId=world["contact"]["id"], measures="x"))[
        "errors"
    ] == []
    # A contact of another customer is "not found".
    other = (await gql(CREATE_CONTACT, {"c": world["other"]["id"], "i": {"name": "别家联系人"}}))[
        "createContact"
    ]["contact"]
    wrong = await move(gql, made["id"], contactId=other["id"], measures="y")
    assert (wrong["errors"][0]["field"], wrong["errors"][0]["code"]) == (
        "input.contactId",
        "NOT_FOUND",
    )
    stored = (await gql(GET, {"id": made["id"]}))["complaint"]
    assert stored["measures"] == "x" and stored["status"] == "OPEN" and stored["version"] == 2


async def test_other_tenants_complaints_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_complaint"]["id"]
    assert (await a(GET, {"id": theirs}))["complaint"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a('{ complaints(first: 50, search: "镜像投诉") { totalCount } }'))["complaints"][
        "totalCount"
    ] == 0
    foreign = to_global_id("User", world["b_sales"].user_id)
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"measures": "hijacked"}}, "updateComplaint"),
        (DELETE, {"id": theirs}, "deleteComplaint"),
        (RESTORE, {"id": theirs}, "restoreComplaint"),
        (DESTROY, {"id": theirs}, "destroyComplaint"),
        (CREATE, {"c": world["b_customer"]["id"], "i": BASE}, "createComplaint"),
        (
            CREATE,
            {"c": world["mine"]["id"], "i": {**BASE, "assigneeId": foreign}},
            "createComplaint",
        ),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["complaint"]
    assert still["description"] == "镜像投诉 mirrored" and still["deletedAt"] is None


async def test_sales_rep_sees_only_complaints_of_own_customers(world) -> None:
    admin, sales = world["admin"], world["sales"]
    theirs = await lodge(admin, world["mine"]["id"], description="admin's complaint")
    own = await lodge(sales, world["sales_customer"]["id"], description="rep's complaint")
    page = (await sales(LIST, {"first": 50}))["complaints"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["complaint"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"measures": "x"}}, "updateComplaint"),
        (DELETE, {"id": theirs["id"]}, "deleteComplaint"),
        (CREATE, {"c": world["mine"]["id"], "i": BASE}, "createComplaint"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = await move(sales, own["id"], assigneeId=admin_id)
    assert (handed["errors"][0]["field"], handed["errors"][0]["code"]) == (
        "input.assigneeId",
        "FORBIDDEN",
    )
    assert allows(Role.service, "complaint:create") and allows(Role.service, "complaint:update")
    assert not allows(Role.service, "complaint:delete")


CREATE_TICKET = """
mutation($c: ID!, $i: CreateServiceTicketInput!) {
  createServiceTicket(customerId: $c, input: $i) { errors { field code } }
}"""
PAGE_WITH_FEEDBACK = """
{ customers(first: 50) { totalCount edges { node { id name
    complaints(first: 3) { severity assignee { name } contact { name } customer { name } }
    serviceTickets(first: 3) { status assignee { name } customer { name } } } } } }
"""


async def test_page_with_complaints_and_tickets_costs_constant_statements(
    db, gql_as, count_statements
) -> None:
    t = await make_tenant(db, "cp-pager")
    gql = await gql_as(t.admin_email)
    admin_id = to_global_id("User", t.admin.user_id)
    for i in range(50):
        c = await create_customer(gql, name=f"Grumpy {i:02d}")
        for n in range(1 + i % 2):
            await lodge(gql, c["id"], description=f"c{i}-{n}", assigneeId=admin_id)
            out = await gql(
                CREATE_TICKET,
                {"c": c["id"], "i": {"problem": f"t{i}-{n}", "assigneeId": admin_id}},
            )
            assert out["createServiceTicket"]["errors"] == []
    await gql(PAGE_WITH_FEEDBACK)  # warm: the token's membership lookup etc.
    counts = []
    for first in (5, 50):
        counter = count_statements()
        data = await gql(PAGE_WITH_FEEDBACK.replace("first: 50", f"first: {first}"))
        edges = data["customers"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["complaints"] and e["node"]["serviceTickets"] for e in edges)
        counts.append(counter.count)
    # auth + page + count + complaints + tickets + users (assignees share a loader);
    # the customer loader is primed by the page and contacts are absent here.
    assert counts[0] == counts[1], counts
    assert counts[0] <= 7, counts
