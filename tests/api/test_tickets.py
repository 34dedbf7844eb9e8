"""After-sales service tickets: lifecycle with audit, the status workflow (assignee past NEW),
satisfaction rules, field errors, tenant isolation and the sales data scope."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role

FIELDS = (
    "id problem product expectation priority status requestedAt handledAt measures result "
    "resolvedAt satisfaction version deletedAt assignee { name } contact { name } customer { name }"
)
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($c: ID!, $i: CreateServiceTicketInput!) {{
  createServiceTicket(customerId: $c, input: $i) {{ serviceTicket {{ {FIELDS} }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateServiceTicketInput!, $v: Int) {{
  updateServiceTicket(id: $id, input: $i, version: $v) {{ serviceTicket {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteServiceTicket(id: $id, version: $v) {{ serviceTicket {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreServiceTicket(id: $id) {{ serviceTicket {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = f"mutation($id: ID!) {{ destroyServiceTicket(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ serviceTicket(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: ServiceTicketFilter, $order: [ServiceTicketOrderBy!], $search: String, $del: Boolean! = false) {
  serviceTickets(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id status priority problem } }
  }
}"""
BASE = {"problem": "售后工单 the boiler is cold", "requestedAt": "2026-05-10T10:00:00+08:00"}


async def open_ticket(gql, customer_id, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {**BASE, **fields}}))["createServiceTicket"]
    assert result["errors"] == [], result
    return result["serviceTicket"]


async def move(gql, ticket_id, **fields):
    return (await gql(UPDATE, {"id": ticket_id, "i": fields}))["updateServiceTicket"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "tk-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="工单镜像客户")
    return {
        "t": t,
        "admin": admin,
        "admin_id": to_global_id("User", t.admin.user_id),
        "sales": sales,
        "mine": await create_customer(admin, name="工单客户"),
        "sales_customer": await create_customer(sales, name="Rep Ticket Customer"),
        "b": b,
        "b_customer": b_customer,
        "b_ticket": await open_ticket(b, b_customer["id"], problem="镜像工单 mirrored"),
        "b_sales": tenant_b.sales,
    }


async def test_open_handle_delete_restore_destroy_with_audit(db, world) -> None:
    gql, mine, admin_id = world["admin"], world["mine"], world["admin_id"]
    made = await open_ticket(gql, mine["id"], product="锅炉 Boiler B2", priority="URGENT")
    assert made["status"] == "NEW" and made["assignee"] is None
    assert made["customer"] == {"name": "工单客户"}
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "ServiceTicket"
    assigned = (
        await gql(
            UPDATE, {"id": made["id"], "v": 1, "i": {"status": "ASSIGNED", "assigneeId": admin_id}}
        )
    )["updateServiceTicket"]
    assert assigned["errors"] == [] and assigned["serviceTicket"]["assignee"] == {"name": "Admin"}
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "assigneeId": {"eq": admin_id},
                    "priority": {"eq": "URGENT"},
                    "not": {"status": {"in": ["RESOLVED", "CLOSED"]}},
                    "requestedAt": {"gte": "2026-05-01T00:00:00Z"},
                },
                "order": [{"field": "REQUESTED_AT", "direction": "DESC"}],
            },
        )
    )["serviceTickets"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]] and page["totalCount"] == 1
    assert (await gql(LIST, {"first": 5, "search": "Boiler"}))["serviceTickets"]["totalCount"] == 1
    stale = (await gql(UPDATE, {"id": made["id"], "i": {"measures": "x"}, "v": 1}))[
        "updateServiceTicket"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["errors"][0]["field"] == "version"

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteServiceTicket"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["serviceTicket"] is None
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreServiceTicket"]
    assert restored["errors"] == [] and restored["serviceTicket"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyServiceTicket"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["serviceTicket"] is None

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(made["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert list(rows.scalars()) == ["create", "update", "delete", "restore", "destroy"]


async def test_status_workflow_valid_invalid_and_reopen(world) -> None:
    gql = world["admin"]
    made = await open_ticket(gql, world["mine"]["id"])
    unassigned = await move(gql, made["id"], status="ASSIGNED")
    assert (unassigned["errors"][0]["field"], unassigned["errors"][0]["code"]) == (
        "input.assigneeId",
        "REQUIRED",
    )
    skipped = await move(gql, made["id"], status="RESOLVED", assigneeId=world["admin_id"])
    assert (skipped["errors"][0]["field"], skipped["errors"][0]["code"]) == (
        "input.status",
        "INVALID",
    )
    assert (await move(gql, made["id"], status="ASSIGNED", assigneeId=world["admin_id"]))[
        "errors"
    ] == []
    cleared = await move(gql, made["id"], assigneeId=None)
    assert cleared["errors"][0]["field"] == "input.assigneeId"
    assert (await move(gql, made["id"], status="IN_PROGRESS"))["errors"] == []
    early = await move(gql, made["id"], satisfaction=3)
    assert early["errors"][0]["field"] == "input.satisfaction"
    resolved = await move(gql, made["id"], status="RESOLVED", result="Fixed", satisfaction=4)
    assert resolved["errors"] == [] and resolved["serviceTicket"]["resolvedAt"] is not None
    reopened = await move(gql, made["id"], status="IN_PROGRESS")
    assert reopened["serviceTicket"]["resolvedAt"] is None
    assert reopened["serviceTicket"]["satisfaction"] is None
    assert (await move(gql, made["id"], status="RESOLVED"))["errors"] == []
    closed = await move(gql, made["id"], status="CLOSED", satisfaction=5)
    assert closed["errors"] == [] and closed["serviceTicket"]["satisfaction"] == 5
    for status in ("NEW", "ASSIGNED", "IN_PROGRESS", "RESOLVED"):
        assert (await move(gql, made["id"], status=status))["errors"][0]["field"] == "input.status"
    assert (await gql(GET, {"id": made["id"]}))["serviceTicket"]["status"] == "CLOSED"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"problem": ""}, "input.problem", "REQUIRED"),
        ({"problem": "x" * 10_001}, "input.problem", "TOO_LONG"),
        ({"requestedAt": "2026-05-10T10:00:00"}, "input.requestedAt", "INVALID"),
        ({"handledAt": "2026-05-09T10:00:00+08:00"}, "input.handledAt", "INVALID"),
        ({"assigneeId": "VXNlcjpub3QtYS11dWlk"}, "input.assigneeId", "INVALID"),
        ({"contactId": "Q29udGFjdDpub3QtYS11dWlk"}, "input.contactId", "INVALID"),
    ],
)
async def test_invalid_input_names_the_field(world, fields, field, code) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["serviceTickets"]["totalCount"]
    result = (await gql(CREATE, {"c": mine["id"], "i": {**BASE, **fields}}))["createServiceTicket"]
    assert result["serviceTicket"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["serviceTickets"]["totalCount"] == before


async def test_other_tenants_tickets_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_ticket"]["id"]
    assert (await a(GET, {"id": theirs}))["serviceTicket"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a('{ serviceTickets(first: 50, search: "镜像工单") { totalCount } }'))[
        "serviceTickets"
    ]["totalCount"] == 0
    foreign = to_global_id("User", world["b_sales"].user_id)
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"measures": "hijacked"}}, "updateServiceTicket"),
        (DELETE, {"id": theirs}, "deleteServiceTicket"),
        (RESTORE, {"id": theirs}, "restoreServiceTicket"),
        (DESTROY, {"id": theirs}, "destroyServiceTicket"),
        (CREATE, {"c": world["b_customer"]["id"], "i": BASE}, "createServiceTicket"),
        (
            CREATE,
            {"c": world["mine"]["id"], "i": {**BASE, "assigneeId": foreign}},
            "createServiceTicket",
        ),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["serviceTicket"]
    assert still["problem"] == "镜像工单 mirrored" and still["deletedAt"] is None


async def test_sales_rep_sees_only_tickets_of_own_customers(world) -> None:
    admin, sales = world["admin"], world["sales"]
    theirs = await open_ticket(admin, world["mine"]["id"], problem="admin's ticket")
    own = await open_ticket(sales, world["sales_customer"]["id"], problem="rep's ticket")
    page = (await sales(LIST, {"first": 50}))["serviceTickets"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["serviceTicket"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"measures": "x"}}, "updateServiceTicket"),
        (DELETE, {"id": theirs["id"]}, "deleteServiceTicket"),
        (CREATE, {"c": world["mine"]["id"], "i": BASE}, "createServiceTicket"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    handed = await move(sales, own["id"], assigneeId=world["admin_id"])
    assert (handed["errors"][0]["field"], handed["errors"][0]["code"]) == (
        "input.assigneeId",
        "FORBIDDEN",
    )
    assert allows(Role.service, "ticket:create") and allows(Role.service, "ticket:update")
    assert not allows(Role.service, "ticket:destroy")
