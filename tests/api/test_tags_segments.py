"""The tag catalogue and tagging customers (rename and destroy reach every customer), saved
segments evaluated live in the viewer's data scope, with masking, permissions, tenant isolation and
constant statement counts."""

from __future__ import annotations

import pytest
from crmtest import PASSWORD, make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.identity.service import create_user
from crm_core.tenants.models import Role

ERRORS = "errors { field code message }"
TAG_FIELDS = "id name color category description version deletedAt"
CREATE_TAG = f"mutation($i: CreateTagInput!) {{ createTag(input: $i) {{ tag {{ {TAG_FIELDS} }} {ERRORS} }} }}"
CREATE_TAGS = (
    f"mutation($i: [CreateTagInput!]!) {{ createTags(inputs: $i) {{ tags {{ id }} {ERRORS} }} }}"
)
UPDATE_TAG = f"""
mutation($id: ID!, $i: UpdateTagInput!, $v: Int) {{
  updateTag(id: $id, input: $i, version: $v) {{ tag {{ {TAG_FIELDS} }} {ERRORS} }}
}}"""
DELETE_TAG = f"mutation($id: ID!, $v: Int) {{ deleteTag(id: $id, version: $v) {{ tag {{ id deletedAt }} {ERRORS} }} }}"
RESTORE_TAG = f"mutation($id: ID!) {{ restoreTag(id: $id) {{ tag {{ id deletedAt }} {ERRORS} }} }}"
DESTROY_TAG = f"mutation($id: ID!) {{ destroyTag(id: $id) {{ destroyedId {ERRORS} }} }}"
GET_TAG = f"""
query($id: ID!) {{ tag(id: $id) {{ {TAG_FIELDS} customerCount
  customers(first: 10, orderBy: [{{field: NAME}}]) {{ totalCount edges {{ node {{ id name }} }} }} }} }}"""
TAGS = """
query($filter: TagFilter, $del: Boolean! = false) {
  tags(first: 50, filter: $filter, includeDeleted: $del) { totalCount edges { node { id name customerCount } } }
}"""
TAGGING = """
mutation($t: ID!, $c: [ID!]!) {{
  {verb}(tagId: $t, customerIds: $c) {{ tag {{ name }} customers {{ id tags version }} errors {{ field code message }} }}
}}"""
TAG_CUSTOMERS = TAGGING.format(verb="tagCustomers")
UNTAG_CUSTOMERS = TAGGING.format(verb="untagCustomers")
CUSTOMER = "query($id: ID!) { customer(id: $id) { id tags version } }"

SEG_FIELDS = "id name description shared filter version deletedAt owner { name }"
CREATE_SEG = f"mutation($i: CreateSegmentInput!) {{ createSegment(input: $i) {{ segment {{ {SEG_FIELDS} }} {ERRORS} }} }}"
CREATE_SEGS = f"mutation($i: [CreateSegmentInput!]!) {{ createSegments(inputs: $i) {{ segments {{ id }} {ERRORS} }} }}"
UPDATE_SEG = f"""
mutation($id: ID!, $i: UpdateSegmentInput!, $v: Int) {{
  updateSegment(id: $id, input: $i, version: $v) {{ segment {{ {SEG_FIELDS} }} {ERRORS} }}
}}"""
DELETE_SEG = f"mutation($id: ID!, $v: Int) {{ deleteSegment(id: $id, version: $v) {{ segment {{ id deletedAt }} {ERRORS} }} }}"
RESTORE_SEG = (
    f"mutation($id: ID!) {{ restoreSegment(id: $id) {{ segment {{ id deletedAt }} {ERRORS} }} }}"
)
DESTROY_SEG = f"mutation($id: ID!) {{ destroySegment(id: $id) {{ destroyedId {ERRORS} }} }}"
GET_SEG = f"query($id: ID!) {{ segment(id: $id) {{ {SEG_FIELDS} }} }}"
EVAL_SEG = """
query($id: ID!) { segment(id: $id) { customerCount
  customers(first: 50, orderBy: [{field: NAME}]) { totalCount edges { node { name } } } } }"""
SEGS = "{ segments(first: 50) { totalCount edges { node { id name customerCount } } } }"
UPDATE_CUSTOMER = """
mutation($id: ID!, $i: UpdateCustomerInput!) { updateCustomer(id: $id, input: $i) { errors { field } } }"""


def names(result) -> list[str]:
    return [e["node"]["name"] for e in result["edges"]]


async def audit_of(db, tenant, entity_id):
    async with db.tenant(tenant.ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.changes)
            .where(AuditEntry.entity_id == from_global_id(entity_id)[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return [tuple(r) for r in rows]


async def make_tag(gql, **fields):
    result = (await gql(CREATE_TAG, {"i": fields}))["createTag"]
    assert result["errors"] == [], result
    return result["tag"]


async def make_segment(gql, **fields):
    result = (await gql(CREATE_SEG, {"i": fields}))["createSegment"]
    assert result["errors"] == [], result
    return result["segment"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "tg-alpha")
    await create_user(
        db,
        email="service@tg-alpha.cn",
        name="Service",
        password=PASSWORD,
        tenant_slug="tg-alpha",
        role=Role.service,
    )
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "viewer": await gql_as(t.viewer_email),
        "service": await gql_as("service@tg-alpha.cn"),
        "b": b,
        "b_tag": await make_tag(b, name="镜像标签"),
        "b_customer": await create_customer(b, name="标签镜像客户"),
        "b_segment": await make_segment(b, name="Mirror segment", filter={}, shared=True),
    }


async def test_tag_lifecycle_with_audit(db, world) -> None:
    gql = world["admin"]
    made = await make_tag(gql, name="重点客户", color="#ff8800", category="价值", description="Key")
    assert made["color"] == "#FF8800" and made["version"] == 1
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Tag"
    dup = (await gql(CREATE_TAG, {"i": {"name": "  重点客户 "}}))["createTag"]
    assert (dup["errors"][0]["field"], dup["errors"][0]["code"]) == ("input.name", "DUPLICATE")
    vip = await make_tag(gql, name="VIP")
    dup_case = (await gql(CREATE_TAG, {"i": {"name": "vip"}}))["createTag"]
    assert dup_case["errors"][0]["code"] == "DUPLICATE"
    for fields, field, code in (
        ({"name": "x", "color": "red"}, "input.color", "INVALID"),
        ({"name": ""}, "input.name", "REQUIRED"),
        ({"name": "x" * 51}, "input.name", "TOO_LONG"),
    ):
        bad = (await gql(CREATE_TAG, {"i": fields}))["createTag"]
        assert (bad["errors"][0]["field"], bad["errors"][0]["code"]) == (field, code)
    many = (await gql(CREATE_TAGS, {"i": [{"name": "批量一"}, {"name": "VIP"}]}))["createTags"]
    assert many["tags"] == [] and many["errors"][0]["field"] == "inputs.1.name"
    filt = {"name": {"startsWith": "批量"}}
    assert (await gql(TAGS, {"filter": filt}))["tags"]["totalCount"] == 0

    taken = (await gql(UPDATE_TAG, {"id": vip["id"], "i": {"name": "重点客户"}}))["updateTag"]
    assert taken["errors"][0]["code"] == "DUPLICATE"
    changed = (await gql(UPDATE_TAG, {"id": made["id"], "v": 1, "i": {"category": "等级"}}))[
        "updateTag"
    ]
    assert changed["errors"] == [] and changed["tag"]["category"] == "等级"
    stale = (await gql(UPDATE_TAG, {"id": made["id"], "v": 1, "i": {"category": "x"}}))["updateTag"]
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert (await gql(DELETE_TAG, {"id": made["id"], "v": 2}))["deleteTag"]["errors"] == []
    assert (await gql(GET_TAG, {"id": made["id"]}))["tag"] is None
    # While deleted, its name is free; restoring then collides and says so.
    clash = await make_tag(gql, name="重点客户")
    blocked = (await gql(RESTORE_TAG, {"id": made["id"]}))["restoreTag"]
    assert (blocked["errors"][0]["field"], blocked["errors"][0]["code"]) == (
        "input.name",
        "DUPLICATE",
    )
    assert (await gql(DESTROY_TAG, {"id": clash["id"]}))["destroyTag"]["errors"] == []
    restored = (await gql(RESTORE_TAG, {"id": made["id"]}))["restoreTag"]
    assert restored["errors"] == [] and restored["tag"]["deletedAt"] is None
    assert (await gql(DESTROY_TAG, {"id": made["id"]}))["destroyTag"]["errors"] == []
    actions = [a for a, _ in await audit_of(db, world["t"], made["id"])]
    assert actions == ["create", "update", "delete", "restore", "destroy"]


async def test_tagging_customers_with_audit_count_and_connection(db, world) -> None:
    admin, sales = world["admin"], world["sales"]
    tag = await make_tag(admin, name="华东区")
    a1 = await create_customer(admin, name="Tagged A1", tags=["老客户"])
    a2 = await create_customer(admin, name="Tagged A2")
    s1 = await create_customer(sales, name="Tagged S1")
    done = (await admin(TAG_CUSTOMERS, {"t": tag["id"], "c": [a1["id"], a2["id"], s1["id"]]}))[
        "tagCustomers"
    ]
    assert done["errors"] == [] and done["tag"] == {"name": "华东区"}
    by_id = {c["id"]: c for c in done["customers"]}
    assert by_id[a1["id"]]["tags"] == ["华东区", "老客户"]
    assert by_id[a1["id"]]["version"] == a1["version"] + 1
    changes = [c for a, c in await audit_of(db, world["t"], a1["id"]) if a == "tag"]
    assert changes == [{"tags": [["老客户"], ["华东区", "老客户"]]}]
    # Again: nothing changes, no new version.
    again = (await admin(TAG_CUSTOMERS, {"t": tag["id"], "c": [a1["id"]]}))["tagCustomers"]
    assert again["customers"][0]["version"] == by_id[a1["id"]]["version"]

    details = "query($id: ID!) { customer(id: $id) { tagDetails { name color } } }"
    assert (await admin(details, {"id": a1["id"]}))["customer"]["tagDetails"] == [
        {"name": "华东区", "color": None}
    ]  # "老客户" is not in the catalogue
    seen = (await admin(GET_TAG, {"id": tag["id"]}))["tag"]
    assert seen["customerCount"] == 3
    assert names(seen["customers"]) == ["Tagged A1", "Tagged A2", "Tagged S1"]
    # The rep counts and lists only customers in the rep's scope.
    rep_view = (await sales(GET_TAG, {"id": tag["id"]}))["tag"]
    assert rep_view["customerCount"] == 1 and names(rep_view["customers"]) == ["Tagged S1"]
    # The rep may tag own customers, not others'; all or nothing.
    refused = (await sales(TAG_CUSTOMERS, {"t": tag["id"], "c": [s1["id"], a2["id"]]}))[
        "tagCustomers"
    ]
    assert refused["errors"] == [
        {"field": "customerIds.1", "code": "NOT_FOUND", "message": "customer not found"}
    ]
    removed = (await sales(UNTAG_CUSTOMERS, {"t": tag["id"], "c": [s1["id"]]}))["untagCustomers"]
    assert removed["errors"] == [] and removed["customers"][0]["tags"] == []
    assert (await admin(GET_TAG, {"id": tag["id"]}))["tag"]["customerCount"] == 2
    assert [a for a, _ in await audit_of(db, world["t"], s1["id"])][-2:] == ["tag", "untag"]
    too_many = (await admin(TAG_CUSTOMERS, {"t": tag["id"], "c": [a1["id"]] * 501}))["tagCustomers"]
    assert too_many["errors"][0]["code"] == "LIMIT_EXCEEDED"
    assert not (await admin(TAG_CUSTOMERS, {"t": tag["id"], "c": []}))["tagCustomers"]["customers"]


async def test_rename_and_destroy_reach_every_customer(db, world) -> None:
    admin, sales = world["admin"], world["sales"]
    tag = await make_tag(admin, name="待跟进")
    c1 = await create_customer(admin, name="Rename C1", tags=["待跟进"])
    c2 = await create_customer(sales, name="Rename C2", tags=["待跟进", "重要"])
    c3 = await create_customer(admin, name="Rename C3", tags=["待跟进", "跟进中"])
    renamed = (await admin(UPDATE_TAG, {"id": tag["id"], "i": {"name": "跟进中"}}))["updateTag"]
    assert renamed["errors"] == [], renamed
    got = {c["id"]: (await admin(CUSTOMER, {"id": c["id"]}))["customer"] for c in (c1, c2, c3)}
    assert got[c1["id"]]["tags"] == ["跟进中"] and got[c1["id"]]["version"] == 2
    assert sorted(got[c2["id"]]["tags"]) == ["跟进中", "重要"]  # outside the renamer's concern
    assert got[c3["id"]]["tags"] == ["跟进中"]  # already had the new name: no duplicate
    audit = await audit_of(db, world["t"], tag["id"])
    assert audit[-1][1]["name"] == ["待跟进", "跟进中"] and audit[-1][1]["customers_retagged"] == 3
    # Soft delete keeps the customers' tags; destroy removes them.
    assert (await admin(DELETE_TAG, {"id": tag["id"]}))["deleteTag"]["errors"] == []
    assert (await admin(CUSTOMER, {"id": c1["id"]}))["customer"]["tags"] == ["跟进中"]
    assert (await admin(DESTROY_TAG, {"id": tag["id"]}))["destroyTag"]["errors"] == []
    for c in (c1, c2, c3):
        assert "跟进中" not in (await admin(CUSTOMER, {"id": c["id"]}))["customer"]["tags"]


async def test_tag_permissions(world) -> None:
    sales, viewer = world["sales"], world["viewer"]
    body = (await sales.post(CREATE_TAG, {"i": {"name": "rep tag"}})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    tag = await make_tag(world["admin"], name="Viewer probe")
    body = (await viewer.post(TAG_CUSTOMERS, {"t": tag["id"], "c": []})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await viewer(GET_TAG, {"id": tag["id"]}))["tag"]["name"] == "Viewer probe"
    assert allows(Role.manager, "tag:update") and allows(Role.sales, "tag:assign")
    assert not allows(Role.sales, "tag:update") and not allows(Role.manager, "tag:destroy")


async def test_other_tenants_tags_do_not_exist(world) -> None:
    a, b = world["admin"], world["b"]
    theirs = world["b_tag"]["id"]
    assert (await a(GET_TAG, {"id": theirs}))["tag"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a(TAGS, {"filter": {"name": {"eq": "镜像标签"}}}))["tags"]["totalCount"] == 0
    for doc, variables, name in (
        (UPDATE_TAG, {"id": theirs, "i": {"name": "hijacked"}}, "updateTag"),
        (DELETE_TAG, {"id": theirs}, "deleteTag"),
        (RESTORE_TAG, {"id": theirs}, "restoreTag"),
        (DESTROY_TAG, {"id": theirs}, "destroyTag"),
        (TAG_CUSTOMERS, {"t": theirs, "c": [world["b_customer"]["id"]]}, "tagCustomers"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    # Our tag on their customer: not found, and their customer is untouched.
    ours = await make_tag(a, name="Isolation tag")
    mine = await create_customer(a, name="Isolation customer")
    result = (
        await a(TAG_CUSTOMERS, {"t": ours["id"], "c": [mine["id"], world["b_customer"]["id"]]})
    )["tagCustomers"]
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (
        "customerIds.1",
        "NOT_FOUND",
    )
    assert (await a(CUSTOMER, {"id": mine["id"]}))["customer"]["tags"] == []
    assert (await b(CUSTOMER, {"id": world["b_customer"]["id"]}))["customer"]["tags"] == []
    assert (await b(GET_TAG, {"id": theirs}))["tag"]["name"] == "镜像标签"


async def test_segment_lifecycle_and_live_evaluation(db, world) -> None:
    admin = world["admin"]
    await create_customer(admin, name="Seg 上海 One", city="上海", grade="A")
    made = await make_segment(
        admin,
        name="上海A级",
        description="Shanghai grade A",
        filter={"city": {"eq": "上海"}, "grade": {"in": ["A", "B"]}},
    )
    assert made["filter"] == {"city": {"eq": "上海"}, "grade": {"in": ["A", "B"]}}
    assert made["shared"] is False and made["owner"] == {"name": "Admin"}
    assert (await admin(NODE, {"id": made["id"]}))["node"]["__typename"] == "Segment"
    first = (await admin(EVAL_SEG, {"id": made["id"]}))["segment"]
    assert first["customerCount"] == 1 and names(first["customers"]) == ["Seg 上海 One"]
    # Live: a customer added or changed after saving appears or disappears.
    later = await create_customer(admin, name="Seg 上海 Two", city="上海", grade="B")
    assert names((await admin(EVAL_SEG, {"id": made["id"]}))["segment"]["customers"]) == [
        "Seg 上海 One",
        "Seg 上海 Two",
    ]
    moved = await admin(UPDATE_CUSTOMER, {"id": later["id"], "i": {"city": "北京"}})
    assert moved["updateCustomer"]["errors"] == []
    now = (await admin(EVAL_SEG, {"id": made["id"]}))["segment"]
    assert now["customerCount"] == 1 and names(now["customers"]) == ["Seg 上海 One"]

    changed = (
        await admin(
            UPDATE_SEG,
            {"id": made["id"], "v": 1, "i": {"filter": {"city": {"eq": "北京"}}, "shared": True}},
        )
    )["updateSegment"]
    assert changed["errors"] == [] and changed["segment"]["shared"] is True
    assert names((await admin(EVAL_SEG, {"id": made["id"]}))["segment"]["customers"]) == [
        "Seg 上海 Two"
    ]
    stale = (await admin(UPDATE_SEG, {"id": made["id"], "v": 1, "i": {"name": "x"}}))[
        "updateSegment"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert (await admin(DELETE_SEG, {"id": made["id"]}))["deleteSegment"]["errors"] == []
    assert (await admin(GET_SEG, {"id": made["id"]}))["segment"] is None
    assert (await admin(RESTORE_SEG, {"id": made["id"]}))["restoreSegment"]["errors"] == []
    assert (await admin(DESTROY_SEG, {"id": made["id"]}))["destroySegment"]["errors"] == []
    actions = [a for a, _ in await audit_of(db, world["t"], made["id"])]
    assert actions == ["create", "update", "delete", "restore", "destroy"]


async def test_segment_filter_is_checked_when_saved(world) -> None:
    admin = world["admin"]
    deep = {"city": {"eq": "x"}}
    for _ in range(8):
        deep = {"and": [deep]}
    for fields, field, code in (
        (
            {"name": "bad id", "filter": {"ownerId": {"eq": "bad"}}},
            "input.filter.ownerId",
            "INVALID",
        ),
        ({"name": "deep", "filter": deep}, "input.filter", "LIMIT_EXCEEDED"),
        ({"name": "", "filter": {}}, "input.name", "REQUIRED"),
        (
            {"name": "wide", "filter": {"or": [{"city": {"eq": str(i)}} for i in range(101)]}},
            "input.filter",
            "LIMIT_EXCEEDED",
        ),
    ):
        result = (await admin(CREATE_SEG, {"i": fields}))["createSegment"]
        assert result["segment"] is None
        error = result["errors"][0]
        assert error["field"].startswith(field) and error["code"] == code, (fields, result)
    many = (
        await admin(CREATE_SEGS, {"i": [{"name": "ok", "filter": {}}, {"name": "", "filter": {}}]})
    )["createSegments"]
    assert many["segments"] == [] and many["errors"][0]["field"] == "inputs.1.name"
    # Ids and times are stored as text and typed again to evaluate.
    mine = to_global_id("User", world["t"].admin.user_id)
    typed = await make_segment(
        admin,
        name="mine since 2020",
        filter={"ownerId": {"eq": mine}, "createdAt": {"gte": "2020-01-01T00:00:00Z"}},
    )
    assert (await admin(EVAL_SEG, {"id": typed["id"]}))["segment"]["customerCount"] >= 1


async def test_segments_follow_the_viewers_scope_and_privacy(world) -> None:
    admin, sales = world["admin"], world["sales"]
    await create_customer(admin, name="Scope 广州 admin", city="广州")
    await create_customer(sales, name="Scope 广州 rep", city="广州")
    shared = await make_segment(admin, name="广州", filter={"city": {"eq": "广州"}}, shared=True)
    private = await make_segment(admin, name="admin only", filter={})
    assert (await admin(EVAL_SEG, {"id": shared["id"]}))["segment"]["customerCount"] == 2
    rep = (await sales(EVAL_SEG, {"id": shared["id"]}))["segment"]
    assert rep["customerCount"] == 1 and names(rep["customers"]) == ["Scope 广州 rep"]
    assert (await sales(GET_SEG, {"id": private["id"]}))["segment"] is None
    assert (await sales(NODE, {"id": private["id"]}))["node"] is None
    listed = [e["node"]["id"] for e in (await sales(SEGS))["segments"]["edges"]]
    assert shared["id"] in listed and private["id"] not in listed
    # A rep reads a shared segment but cannot change someone else's.
    for doc, variables, name in (
        (UPDATE_SEG, {"id": shared["id"], "i": {"name": "mine now"}}, "updateSegment"),
        (DELETE_SEG, {"id": shared["id"]}, "deleteSegment"),
        (UPDATE_SEG, {"id": private["id"], "i": {"name": "x"}}, "updateSegment"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    own = await make_segment(sales, name="rep's own", filter={"city": {"eq": "广州"}})
    assert (await sales(EVAL_SEG, {"id": own["id"]}))["segment"]["customerCount"] == 1
    assert (await admin(GET_SEG, {"id": own["id"]}))["segment"] is None
    body = (await world["viewer"].post(CREATE_SEG, {"i": {"name": "v", "filter": {}}})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allows(Role.service, "segment:create") and not allows(Role.viewer, "segment:create")


async def test_personal_data_filters_are_refused_for_masked_roles(world) -> None:
    admin, service, viewer = world["admin"], world["service"], world["viewer"]
    await create_customer(admin, name="Masked target", phone="13900002222", city="杭州")
    refused = (
        await service(
            CREATE_SEG,
            {"i": {"name": "by phone", "filter": {"or": [{"phone": {"eq": "+8613900002222"}}]}}},
        )
    )["createSegment"]
    assert refused["segment"] is None
    assert (refused["errors"][0]["field"], refused["errors"][0]["code"]) == (
        "input.filter.or.0.phone",
        "FORBIDDEN",
    )
    allowed = await make_segment(service, name="杭州 (service)", filter={"city": {"eq": "杭州"}})
    assert (await service(EVAL_SEG, {"id": allowed["id"]}))["segment"]["customerCount"] >= 1
    # A shared segment on personal data, saved by someone who may: masked viewers cannot run it.
    by_phone = await make_segment(
        admin, name="by phone", filter={"phone": {"eq": "+8613900002222"}}, shared=True
    )
    assert (await admin(EVAL_SEG, {"id": by_phone["id"]}))["segment"]["customerCount"] == 1
    body = (await viewer.post(EVAL_SEG, {"id": by_phone["id"]})).json()
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"FORBIDDEN"} and body["data"] == {"segment": None}
    assert body["errors"][0]["extensions"]["field"] == "filter.phone"


async def test_other_tenants_segments_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_segment"]["id"]
    assert (await a(GET_SEG, {"id": theirs}))["segment"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    listed = [e["node"]["name"] for e in (await a(SEGS))["segments"]["edges"]]
    assert "Mirror segment" not in listed
    for doc, variables, name in (
        (UPDATE_SEG, {"id": theirs, "i": {"name": "hijacked"}}, "updateSegment"),
        (DELETE_SEG, {"id": theirs}, "deleteSegment"),
        (RESTORE_SEG, {"id": theirs}, "restoreSegment"),
        (DESTROY_SEG, {"id": theirs}, "destroySegment"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    # A filter naming another tenant's customer matches nothing here.
    probe = await make_segment(a, name="probe", filter={"id": {"eq": world["b_customer"]["id"]}})
    assert (await a(EVAL_SEG, {"id": probe["id"]}))["segment"]["customerCount"] == 0
    assert (await world["b"](GET_SEG, {"id": theirs}))["segment"]["name"] == "Mirror segment"


PAGE = """
{ tags(first: 20) { edges { node { name customerCount } } }
  segments(first: 20) { edges { node { name customerCount owner { name } } } }
  customers(first: 20) { edges { node { name tagDetails { name } } } } }
"""


async def test_pages_with_counts_cost_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "tg-pager")
    gql = await gql_as(t.admin_email)
    for i in range(12):
        await make_tag(gql, name=f"T{i:02d}")
        await make_segment(gql, name=f"S{i:02d}", filter={"name": {"contains": str(i)}})
        await create_customer(gql, name=f"Pager {i}", tags=[f"T{i:02d}"])
    await gql(PAGE)  # warm
    counts = []
    for first in (3, 12):
        counter = count_statements()
        data = await gql(PAGE.replace("first: 20", f"first: {first}"))
        assert len(data["tags"]["edges"]) == first and len(data["segments"]["edges"]) == first
        assert all(e["node"]["customerCount"] == 1 for e in data["tags"]["edges"])
        assert all(e["node"]["customerCount"] >= 1 for e in data["segments"]["edges"])
        assert all(len(e["node"]["tagDetails"]) == 1 for e in data["customers"]["edges"])
        counts.append(counter.count)
    # auth + 3 × (page + count) + tag counts + segment counts + users + tags by name
    assert counts[0] == counts[1], counts
    assert counts[0] <= 11, counts
