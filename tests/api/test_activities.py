"""Activities and their attendees: lifecycle with audit, the status workflow, times, the
capacity (on adding, on a status change, on lowering it), attendees of another tenant's or of an
unseen customer refused, tenant isolation of every list and node, the data scope (owner for the
activity, customer for its attendees), permissions, and constant statement counts."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry

ERRORS = "errors { field code message }"
FIELDS = (
    "id name kind status startsAt endsAt location onlineUrl description capacity version "
    "deletedAt owner { name } attendeeCount"
)
CREATE = f"""
mutation($i: CreateActivityInput!) {{
  createActivity(input: $i) {{ activity {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateActivityInput!]!) {{
  createActivities(inputs: $i) {{ activities {{ id }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateActivityInput!, $v: Int) {{
  updateActivity(id: $id, input: $i, version: $v) {{ activity {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteActivity(id: $id, version: $v) {{ activity {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = (
    f"mutation($id: ID!) {{ restoreActivity(id: $id) {{ activity {{ id deletedAt }} {ERRORS} }} }}"
)
DESTROY = f"mutation($id: ID!) {{ destroyActivity(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"""query($id: ID!) {{ activity(id: $id) {{ {FIELDS}
  attendees(first: 50) {{ id status note customer {{ name }} contact {{ name }} activity {{ id }} }} }} }}"""
LIST = """
query($first: Int, $filter: ActivityFilter, $search: String, $del: Boolean! = false) {
  activities(first: $first, filter: $filter, search: $search, includeDeleted: $del) {
    totalCount edges { node { id name status } }
  }
}"""
ADD = f"""
mutation($a: ID!, $l: [AddActivityAttendeeInput!]!) {{
  addActivityAttendees(activityId: $a, attendees: $l) {{ attendees {{ id status customer {{ name }} }} {ERRORS} }}
}}"""
UPDATE_ATTENDEE = f"""
mutation($id: ID!, $i: UpdateActivityAttendeeInput!, $v: Int) {{
  updateActivityAttendee(id: $id, input: $i, version: $v) {{ attendee {{ id status note version }} {ERRORS} }}
}}"""
REMOVE = f"mutation($id: ID!) {{ removeActivityAttendee(id: $id) {{ removedId {ERRORS} }} }}"
EXPO = {
    "name": "2026 上海工博会 Industry Fair",
    "kind": "EXHIBITION",
    "startsAt": "2026-09-20T09:00:00+08:00",
    "endsAt": "2026-09-22T17:00:00+08:00",
    "location": "国家会展中心",
}


async def hold(gql, **fields):
    result = (await gql(CREATE, {"i": {**EXPO, **fields}}))["createActivity"]
    assert result["errors"] == [], result
    return result["activity"]


async def add(gql, activity_id, *attendees):
    return (await gql(ADD, {"a": activity_id, "l": list(attendees)}))["addActivityAttendees"]


def first_error(result):
    return (result["errors"][0]["field"], result["errors"][0]["code"])


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "ac-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="活动镜像客户")
    b_activity = await hold(b, name="镜像活动 mirrored")
    assert (await add(b, b_activity["id"], {"customerId": b_customer["id"]}))["errors"] == []
    mine = await create_customer(admin, name="活动客户")
    contact = (await admin(CREATE_CONTACT, {"c": mine["id"], "i": {"name": "赵采购"}}))[
        "createContact"
    ]["contact"]
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "viewer": await gql_as(t.viewer_email),
        "mine": mine,
        "contact": contact,
        "other": await create_customer(admin, name="活动别家"),
        "sales_customer": await create_customer(sales, name="Rep Event Customer"),
        "b": b,
        "b_customer": b_customer,
        "b_activity": b_activity,
    }


async def _actions(db, tenant, global_id):
    async with db.tenant(tenant.ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(global_id)[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return list(rows.scalars())


async def test_activity_lifecycle_with_audit(db, world) -> None:
    gql = world["admin"]
    made = await hold(gql, description="新品发布 launch", capacity=50)
    assert made["status"] == "PLANNED" and made["owner"] == {"name": "Admin"}
    assert made["attendeeCount"] == 0
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Activity"
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "kind": {"eq": "EXHIBITION"},
                    "startsAt": {"gte": "2026-09-01T00:00:00Z"},
                    "id": {"eq": made["id"]},
                },
                "search": "launch",
            },
        )
    )["activities"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]]
    done = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"status": "DONE"}}))[
        "updateActivity"
    ]
    assert done["errors"] == [] and done["activity"]["status"] == "DONE"
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"name": "x"}}))["updateActivity"]
    assert first_error(stale) == ("version", "CONFLICT")
    back = (await gql(UPDATE, {"id": made["id"], "i": {"status": "PLANNED"}}))["updateActivity"]
    assert first_error(back) == ("input.status", "INVALID")
    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteActivity"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["activity"] is None
    assert (await gql(LIST, {"first": 5, "filter": {"id": {"eq": made["id"]}}, "del": True}))[
        "activities"
    ]["totalCount"] == 1
    assert (await gql(RESTORE, {"id": made["id"]}))["restoreActivity"]["errors"] == []
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyActivity"]
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
        ({"name": ""}, "input.name", "REQUIRED"),
        ({"endsAt": "2026-09-19T09:00:00+08:00"}, "input.endsAt", "INVALID"),
        ({"capacity": 0}, "input.capacity", "INVALID"),
        ({"onlineUrl": "javascript:alert(1)"}, "input.onlineUrl", "INVALID"),
        ({"startsAt": "2026-09-20T09:00:00"}, "input.startsAt", "INVALID"),
        ({"ownerId": "VXNlcjpub3QtYS11dWlk"}, "input.ownerId", "INVALID"),
    ],
)
async def test_invalid_input_names_the_field(world, fields, field, code) -> None:
    gql = world["admin"]
    before = (await gql(LIST, {"first": 0}))["activities"]["totalCount"]
    result = (await gql(CREATE, {"i": {**EXPO, **fields}}))["createActivity"]
    assert result["activity"] is None and first_error(result) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["activities"]["totalCount"] == before


async def test_batch_create_is_all_or_nothing(world) -> None:
    gql = world["admin"]
    before = (await gql(LIST, {"first": 0}))["activities"]["totalCount"]
    bad = (await gql(CREATE_MANY, {"i": [EXPO, {**EXPO, "capacity": -1}]}))["createActivities"]
    assert bad["activities"] == [] and first_error(bad) == ("inputs.1.capacity", "INVALID")
    assert (await gql(LIST, {"first": 0}))["activities"]["totalCount"] == before
    ok = (await gql(CREATE_MANY, {"i": [EXPO, {**EXPO, "kind": "WEBINAR"}]}))["createActivities"]
    assert ok["errors"] == [] and len(ok["activities"]) == 2


async def test_attendees_and_capacity(db, world) -> None:
    gql, mine, other = world["admin"], world["mine"], world["other"]
    event = await hold(gql, capacity=2, name="小型研讨会 seminar")
    added = await add(
        gql,
        event["id"],
        {"customerId": mine["id"], "contactId": world["contact"]["id"], "status": "REGISTERED"},
        {"customerId": other["id"], "note": "VIP"},
    )
    assert added["errors"] == [] and [a["status"] for a in added["attendees"]] == [
        "REGISTERED",
        "INVITED",
    ]
    stored = (await gql(GET, {"id": event["id"]}))["activity"]
    assert stored["attendeeCount"] == 2
    assert {
        (a["customer"]["name"], (a["contact"] or {}).get("name")) for a in stored["attendees"]
    } == {
        ("活动客户", "赵采购"),
        ("活动别家", None),
    }
    assert stored["attendees"][0]["activity"] == {"id": event["id"]}
    assert await _actions(db, world["t"], added["attendees"][0]["id"]) == ["create"]

    # Full: the customer-only row of `mine` would take a third seat.
    full = await add(gql, event["id"], {"customerId": mine["id"]})
    assert full["attendees"] == [] and first_error(full) == ("attendees", "LIMIT_EXCEEDED")
    # The same person twice is a duplicate (named by index), and nothing of the batch is written.
    twice = await add(
        gql,
        event["id"],
        {"customerId": mine["id"], "contactId": world["contact"]["id"], "status": "CANCELLED"},
    )
    assert first_error(twice) == ("attendees.0.contactId", "DUPLICATE")
    # A cancelled attendee holds no seat, so it may join a full list…
    standby = await add(gql, event["id"], {"customerId": mine["id"], "status": "CANCELLED"})
    assert standby["errors"] == []
    assert (await gql(GET, {"id": event["id"]}))["activity"]["attendeeCount"] == 2
    # …but cannot take a seat back while the list is full.
    seat = (
        await gql(
            UPDATE_ATTENDEE, {"id": standby["attendees"][0]["id"], "i": {"status": "REGISTERED"}}
        )
    )["updateActivityAttendee"]
    assert first_error(seat) == ("input.status", "LIMIT_EXCEEDED")
    # Lowering the capacity below the seats taken is refused; freeing a seat lets them in.
    lower = (await gql(UPDATE, {"id": event["id"], "i": {"capacity": 1}}))["updateActivity"]
    assert first_error(lower) == ("input.capacity", "INVALID")
    freed = (
        await gql(
            UPDATE_ATTENDEE,
            {"id": added["attendees"][1]["id"], "v": 1, "i": {"status": "ABSENT", "note": "sick"}},
        )
    )["updateActivityAttendee"]
    assert freed["errors"] == [] and freed["attendee"]["version"] == 2
    stale = (
        await gql(UPDATE_ATTENDEE, {"id": added["attendees"][1]["id"], "v": 1, "i": {"note": "x"}})
    )["updateActivityAttendee"]
    assert first_error(stale) == ("version", "CONFLICT")
    seat = (
        await gql(
            UPDATE_ATTENDEE, {"id": standby["attendees"][0]["id"], "i": {"status": "REGISTERED"}}
        )
    )["updateActivityAttendee"]
    assert seat["errors"] == []
    # Removing an attendee deletes the row, audited.
    removed = (await gql(REMOVE, {"id": added["attendees"][1]["id"]}))["removeActivityAttendee"]
    assert removed == {"removedId": added["attendees"][1]["id"], "errors": []}
    assert await _actions(db, world["t"], added["attendees"][1]["id"]) == [
        "create",
        "update",
        "destroy",
    ]
    # Customer.activities, through its loader.
    data = await gql(
        "query($id: ID!) { customer(id: $id) { activities(first: 5) { id name } } }",
        {"id": mine["id"]},
    )
    assert event["id"] in [a["id"] for a in data["customer"]["activities"]]
    # A cancelled activity takes no one.
    cancelled = await hold(gql)
    assert (await gql(UPDATE, {"id": cancelled["id"], "i": {"status": "CANCELLED"}}))[
        "updateActivity"
    ]["errors"] == []
    late = await add(gql, cancelled["id"], {"customerId": mine["id"]})
    assert first_error(late) == ("activityId", "INVALID")


async def test_attendee_input_errors(world) -> None:
    gql = world["admin"]
    event = await hold(gql)
    other_contact = (
        await gql(CREATE_CONTACT, {"c": world["other"]["id"], "i": {"name": "别家联系人"}})
    )["createContact"]["contact"]
    for attendee, field, code in (
        (
            {"customerId": world["mine"]["id"], "contactId": other_contact["id"]},
            "attendees.0.contactId",
            "NOT_FOUND",
        ),
        ({"customerId": "not-an-id"}, "attendees.0.customerId", "INVALID"),
        ({"customerId": world["mine"]["id"], "note": "x" * 1001}, "attendees.0.note", "TOO_LONG"),
    ):
        result = await add(gql, event["id"], attendee)
        assert first_error(result) == (field, code), result
    empty = await add(gql, event["id"])
    assert first_error(empty) == ("attendees", "REQUIRED")
    many = await add(gql, event["id"], *[{"customerId": world["mine"]["id"]}] * 201)
    assert first_error(many) == ("attendees", "LIMIT_EXCEEDED")
    assert (await gql(GET, {"id": event["id"]}))["activity"]["attendees"] == []


async def test_other_tenants_activities_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_activity"]["id"]
    assert (await a(GET, {"id": theirs}))["activity"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a(LIST, {"first": 50, "search": "镜像活动"}))["activities"]["totalCount"] == 0
    their_attendee = (await world["b"](GET, {"id": theirs}))["activity"]["attendees"][0]["id"]
    assert (await a(NODE, {"id": their_attendee}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"name": "hijacked"}}, "updateActivity"),
        (DELETE, {"id": theirs}, "deleteActivity"),
        (RESTORE, {"id": theirs}, "restoreActivity"),
        (DESTROY, {"id": theirs}, "destroyActivity"),
        (UPDATE_ATTENDEE, {"id": their_attendee, "i": {"note": "x"}}, "updateActivityAttendee"),
        (REMOVE, {"id": their_attendee}, "removeActivityAttendee"),
        (ADD, {"a": theirs, "l": [{"customerId": world["mine"]["id"]}]}, "addActivityAttendees"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    # Our activity cannot list their customer.
    ours = await hold(a)
    refused = await add(a, ours["id"], {"customerId": world["b_customer"]["id"]})
    assert first_error(refused) == ("attendees.0.customerId", "NOT_FOUND")
    still = (await world["b"](GET, {"id": theirs}))["activity"]
    assert still["name"] == "镜像活动 mirrored" and len(still["attendees"]) == 1


async def test_scope_owner_for_activities_customer_for_attendees(world) -> None:
    admin, sales = world["admin"], world["sales"]
    expo = await hold(admin, name="Admin's expo")
    assert (await add(admin, expo["id"], {"customerId": world["mine"]["id"]}))["errors"] == []
    # Company events are visible to every reader, so a rep can bring their customers…
    assert (await sales(GET, {"id": expo["id"]}))["activity"]["id"] == expo["id"]
    brought = await add(sales, expo["id"], {"customerId": world["sales_customer"]["id"]})
    assert brought["errors"] == []
    # …but sees only the attendees of customers in their scope (the count is the seats).
    seen = (await sales(GET, {"id": expo["id"]}))["activity"]
    assert [a["customer"]["name"] for a in seen["attendees"]] == ["Rep Event Customer"]
    assert seen["attendeeCount"] == 2
    admin_attendee = (await admin(GET, {"id": expo["id"]}))["activity"]["attendees"][0]["id"]
    assert (await sales(NODE, {"id": admin_attendee}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": expo["id"], "i": {"name": "mine now"}}, "updateActivity"),
        (DELETE, {"id": expo["id"]}, "deleteActivity"),
        (UPDATE_ATTENDEE, {"id": admin_attendee, "i": {"note": "x"}}, "updateActivityAttendee"),
        (REMOVE, {"id": admin_attendee}, "removeActivityAttendee"),
        (
            ADD,
            {"a": expo["id"], "l": [{"customerId": world["other"]["id"]}]},
            "addActivityAttendees",
        ),
    ):
        result = (await sales(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    # A rep's own activity is theirs to change; they cannot hand it to a colleague.
    own = await hold(sales, name="Rep's lunch talk")
    assert own["owner"] == {"name": "李娜"}
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = (await sales(UPDATE, {"id": own["id"], "i": {"ownerId": admin_id}}))["updateActivity"]
    assert first_error(handed) == ("input.ownerId", "FORBIDDEN")
    # A viewer reads but cannot write.
    viewer = world["viewer"]
    assert (await viewer(GET, {"id": expo["id"]}))["activity"]["id"] == expo["id"]
    body = (await viewer.post(CREATE, {"i": EXPO})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = (
        await viewer.post(ADD, {"a": expo["id"], "l": [{"customerId": world["mine"]["id"]}]})
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


PAGE = """
{ activities(first: 50) { edges { node { id attendeeCount owner { name }
    attendees(first: 5) { status customer { name } contact { name } } } } } }
"""
CUSTOMER_PAGE = """
{ customers(first: 50) { edges { node { id activities(first: 5) { name attendeeCount } } } } }
"""


async def test_pages_with_attendees_cost_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "ac-pager")
    gql = await gql_as(t.admin_email)
    customers = [await create_customer(gql, name=f"Guest {i:02d}") for i in range(6)]
    for i in range(12):
        event = await hold(gql, name=f"Event {i:02d}")
        picks = [{"customerId": c["id"]} for c in customers[i % 3 : i % 3 + 3]]
        assert (await add(gql, event["id"], *picks))["errors"] == []
    for doc, sizes, key in ((PAGE, (3, 12), "activities"), (CUSTOMER_PAGE, (2, 6), "customers")):
        await gql(doc)
        counts = []
        for first in sizes:
            counter = count_statements()
            edges = (await gql(doc.replace("first: 50", f"first: {first}")))[key]["edges"]
            assert len(edges) == first
            counts.append(counter.count)
        assert counts[0] == counts[1], (key, counts)
