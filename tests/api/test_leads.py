"""Leads: lifecycle with audit, phone/e-mail cleansing and pinyin search, the status workflow,
conversion into a customer and its primary contact (all or nothing), the owner's data scope,
masking, permissions, tenant isolation and the constant statement count of a page."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import func, select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.contacts.models import Contact
from crm_core.customers.models import Customer
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role

FIELDS = (
    "id name companyName title phone phoneRaw email source interests status score notes "
    "province city convertedAt version deletedAt owner { name }"
)
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($i: CreateLeadInput!) {{ createLead(input: $i) {{ lead {{ {FIELDS} }} {ERRORS} }} }}"""
CREATE_MANY = f"""
mutation($i: [CreateLeadInput!]!) {{ createLeads(inputs: $i) {{ leads {{ id name }} {ERRORS} }} }}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateLeadInput!, $v: Int) {{
  updateLead(id: $id, input: $i, version: $v) {{ lead {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteLead(id: $id, version: $v) {{ lead {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreLead(id: $id) {{ lead {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = f"mutation($id: ID!) {{ destroyLead(id: $id) {{ destroyedId {ERRORS} }} }}"
CONVERT = f"""
mutation($id: ID!, $i: ConvertLeadInput, $v: Int) {{
  convertLead(id: $id, input: $i, version: $v) {{
    lead {{ id status version convertedAt
      convertedCustomer {{ id code name kind phone email source province city preferredProducts
        owner {{ name }} }}
      convertedContact {{ id name title isPrimary phones {{ number raw }} emails {{ address }}
        customer {{ id }} }} }}
    {ERRORS}
  }}
}}"""
GET = f"query($id: ID!) {{ lead(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: LeadFilter, $order: [LeadOrderBy!], $search: String, $del: Boolean! = false) {
  leads(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id name score status } }
  }
}"""
BASE = {"name": "张伟", "companyName": "华东机械有限公司", "phone": "138 1234 5678"}


async def new_lead(gql, **fields):
    result = (await gql(CREATE, {"i": {**BASE, **fields}}))["createLead"]
    assert result["errors"] == [], result
    return result["lead"]


async def move(gql, lead_id, **fields):
    return (await gql(UPDATE, {"id": lead_id, "i": fields}))["updateLead"]


async def qualified(gql, **fields):
    lead = await new_lead(gql, **fields)
    for status in ("CONTACTED", "QUALIFIED"):
        result = await move(gql, lead["id"], status=status)
        assert result["errors"] == [], result
    return result["lead"]


async def audit_actions(db, tenant, entity_id):
    async with db.tenant(tenant.ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.entity, AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(entity_id)[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return [tuple(r) for r in rows]


async def count(db, tenant, model, *where):
    async with db.tenant(tenant.ref).read() as session:
        return (
            await session.execute(select(func.count()).select_from(model).where(*where))
        ).scalar_one()


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "ld-alpha")
    b = await gql_as(tenant_b.admin_email)
    return {
        "t": t,
        "admin": await gql_as(t.admin_email),
        "sales": await gql_as(t.sales_email),
        "viewer": await gql_as(t.viewer_email),
        "b": b,
        "b_lead": await qualified(b, name="镜像线索", companyName="Mirror Ltd"),
        "b_customer": await create_customer(b, name="线索镜像客户"),
        "b_sales": tenant_b.sales,
    }


async def test_lead_lifecycle_with_audit_and_pinyin_search(db, world) -> None:
    gql = world["admin"]
    made = await new_lead(
        gql,
        title="采购经理",
        email=" Zhang.Wei@Example.COM ",
        source="EXHIBITION",
        interests=["数控机床", "数控机床", " 配件 "],
        score=70,
        province="江苏省",
        city="苏州市",
    )
    assert made["phone"] == "+8613812345678" and made["phoneRaw"] == "138 1234 5678"
    assert made["email"] == "Zhang.Wei@example.com"  # the domain part is lower-cased
    assert made["interests"] == ["数控机床", "配件"]
    assert made["status"] == "NEW" and made["owner"] == {"name": "Admin"}
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Lead"
    for probe in ("zhangwei", "huadong", "13812345678", "zhang.wei@example"):
        page = (await gql(LIST, {"first": 5, "search": probe}))["leads"]
        assert made["id"] in [e["node"]["id"] for e in page["edges"]], probe
    filt = {
        "score": {"gte": 60, "lte": 80},
        "interests": {"has": "配件"},
        "source": {"eq": "EXHIBITION"},
        "or": [{"status": {"eq": "NEW"}}, {"status": {"eq": "CONTACTED"}}],
    }
    page = (await gql(LIST, {"first": 5, "filter": filt, "order": [{"field": "SCORE"}]}))["leads"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]]

    changed = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"score": 80, "notes": "热"}}))[
        "updateLead"
    ]
    assert changed["errors"] == [] and changed["lead"]["score"] == 80
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"score": 10}}))["updateLead"]
    assert (stale["errors"][0]["field"], stale["errors"][0]["code"]) == ("version", "CONFLICT")

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteLead"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["lead"] is None
    listed = await gql(LIST, {"first": 50, "filter": {"id": {"eq": made["id"]}}, "del": True})
    assert listed["leads"]["totalCount"] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreLead"]
    assert restored["errors"] == [] and restored["lead"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyLead"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["lead"] is None
    actions = [a for _, a in await audit_actions(db, world["t"], made["id"])]
    assert actions == ["create", "update", "delete", "restore", "destroy"]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"name": ""}, "input.name", "REQUIRED"),
        ({"name": "x" * 121}, "input.name", "TOO_LONG"),
        ({"phone": "12"}, "input.phone", "INVALID"),
        ({"email": "not-an-email"}, "input.email", "INVALID"),
        ({"score": 101}, "input.score", "INVALID"),
        ({"score": -1}, "input.score", "INVALID"),
        ({"interests": ["x"] * 31}, "input.interests", "TOO_LONG"),
        ({"ownerId": "VXNlcjpub3QtYS11dWlk"}, "input.ownerId", "INVALID"),
    ],
)
async def test_invalid_input_names_the_field(db, world, fields, field, code) -> None:
    gql = world["admin"]
    before = (await gql(LIST, {"first": 0}))["leads"]["totalCount"]
    result = (await gql(CREATE, {"i": {**BASE, **fields}}))["createLead"]
    assert result["lead"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["leads"]["totalCount"] == before


async def test_create_many_is_all_or_nothing(world) -> None:
    gql = world["admin"]
    before = (await gql(LIST, {"first": 0}))["leads"]["totalCount"]
    bad = (await gql(CREATE_MANY, {"i": [{"name": "甲"}, {"name": "乙", "email": "bad"}]}))[
        "createLeads"
    ]
    assert bad["leads"] == [] and bad["errors"][0]["field"] == "inputs.1.email"
    assert (await gql(LIST, {"first": 0}))["leads"]["totalCount"] == before
    good = (await gql(CREATE_MANY, {"i": [{"name": "甲"}, {"name": "乙"}]}))["createLeads"]
    assert good["errors"] == [] and len(good["leads"]) == 2


async def test_status_workflow(world) -> None:
    gql = world["admin"]
    lead = await new_lead(gql)
    skipped = await move(gql, lead["id"], status="QUALIFIED")
    assert (skipped["errors"][0]["field"], skipped["errors"][0]["code"]) == (
        "input.status",
        "INVALID",
    )
    for status in ("CONTACTED", "UNQUALIFIED", "CONTACTED", "QUALIFIED"):
        result = await move(gql, lead["id"], status=status)
        assert result["errors"] == [] and result["lead"]["status"] == status, result
    by_update = await move(gql, lead["id"], status="CONVERTED")
    assert by_update["errors"][0]["field"] == "input.status"
    back = await move(gql, lead["id"], status="CONTACTED")
    assert back["errors"][0]["field"] == "input.status"
    assert (await gql(GET, {"id": lead["id"]}))["lead"]["status"] == "QUALIFIED"
    starts = (await gql(CREATE, {"i": {**BASE, "name": "x"}}))["createLead"]
    assert starts["lead"]["status"] == "NEW"


async def test_conversion_end_to_end(db, world) -> None:
    gql, t = world["admin"], world["t"]
    lead = await qualified(
        gql,
        title="总经理",
        email="boss@huadong.cn",
        source="REFERRAL",
        interests=["数控机床"],
        province="江苏省",
        city="苏州市",
    )
    customers_before = await count(db, t, Customer)
    result = (
        await gql(
            CONVERT,
            {
                "id": lead["id"],
                "v": lead["version"],
                "i": {"customer": {"code": "ld-0001", "grade": "A"}},
            },
        )
    )["convertLead"]
    assert result["errors"] == [], result
    converted = result["lead"]
    assert converted["status"] == "CONVERTED" and converted["convertedAt"] is not None
    customer, contact = converted["convertedCustomer"], converted["convertedContact"]
    assert customer["code"] == "LD-0001" and customer["name"] == "华东机械有限公司"
    assert customer["kind"] == "COMPANY" and customer["phone"] == "+8613812345678"
    assert customer["email"] == "boss@huadong.cn" and customer["source"] == "REFERRAL"
    assert (customer["province"], customer["city"]) == ("江苏省", "苏州市")
    assert customer["preferredProducts"] == ["数控机床"] and customer["owner"] == {"name": "Admin"}
    assert contact["name"] == "张伟" and contact["title"] == "总经理" and contact["isPrimary"]
    assert contact["phones"][0]["number"] == "+8613812345678"
    assert contact["emails"] == [{"address": "boss@huadong.cn"}]
    assert contact["customer"]["id"] == customer["id"]
    assert await count(db, t, Customer) == customers_before + 1

    assert await audit_actions(db, t, customer["id"]) == [("customer", "create")]
    assert await audit_actions(db, t, contact["id"]) == [("contact", "create")]
    assert (await audit_actions(db, t, lead["id"]))[-1] == ("lead", "convert")

    again = (await gql(CONVERT, {"id": lead["id"]}))["convertLead"]
    assert (again["errors"][0]["field"], again["errors"][0]["code"]) == ("input.status", "INVALID")
    assert "already" in again["errors"][0]["message"]
    assert await count(db, t, Customer) == customers_before + 1
    # A person without a company becomes an individual customer.
    solo = await qualified(gql, name="Li Na", companyName=None, phone=None)
    done = (await gql(CONVERT, {"id": solo["id"]}))["convertLead"]
    assert done["errors"] == [] and done["lead"]["convertedCustomer"]["kind"] == "INDIVIDUAL"
    assert done["lead"]["convertedCustomer"]["name"] == "Li Na"


async def test_only_a_qualified_lead_converts(db, world) -> None:
    gql = world["admin"]
    lead = await new_lead(gql)
    for status in (None, "CONTACTED", "UNQUALIFIED"):
        if status:
            assert (await move(gql, lead["id"], status=status))["errors"] == []
        result = (await gql(CONVERT, {"id": lead["id"]}))["convertLead"]
        assert result["lead"] is None
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (
            "input.status",
            "INVALID",
        ), status
    assert (await gql(GET, {"id": lead["id"]}))["lead"]["convertedAt"] is None


async def test_failed_conversion_writes_nothing(db, world) -> None:
    gql, t = world["admin"], world["t"]
    await create_customer(gql, name="已有客户", code="DUP-LEAD")
    lead = await qualified(gql, name="赵六", companyName="重复代码公司")
    before = (
        await count(db, t, Customer),
        await count(db, t, Contact),
        await count(db, t, AuditEntry),
    )
    result = (await gql(CONVERT, {"id": lead["id"], "i": {"customer": {"code": "dup-lead"}}}))[
        "convertLead"
    ]
    assert result["lead"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (
        "input.customer.code",
        "DUPLICATE",
    )
    bad_email = (await gql(CONVERT, {"id": lead["id"], "i": {"customer": {"email": "nope"}}}))[
        "convertLead"
    ]
    assert bad_email["errors"][0]["field"] == "input.customer.email"
    both = (
        await gql(
            CONVERT,
            {"id": lead["id"], "i": {"customerId": lead["id"], "customer": {"grade": "B"}}},
        )
    )["convertLead"]
    assert both["errors"][0]["field"] == "input.customerId"  # not a Customer id
    after = (
        await count(db, t, Customer),
        await count(db, t, Contact),
        await count(db, t, AuditEntry),
    )
    assert after == before
    stored = (await gql(GET, {"id": lead["id"]}))["lead"]
    assert stored["status"] == "QUALIFIED" and stored["version"] == lead["version"]


async def test_conversion_onto_an_existing_customer(db, world) -> None:
    gql, t = world["admin"], world["t"]
    existing = await create_customer(gql, name="老客户 Existing")
    lead = await qualified(gql, name="钱七", companyName="老客户 Existing")
    customers_before = await count(db, t, Customer)
    both = (
        await gql(
            CONVERT,
            {"id": lead["id"], "i": {"customerId": existing["id"], "customer": {"grade": "B"}}},
        )
    )["convertLead"]
    assert (both["errors"][0]["field"], both["errors"][0]["code"]) == ("input.customer", "INVALID")
    result = (await gql(CONVERT, {"id": lead["id"], "i": {"customerId": existing["id"]}}))[
        "convertLead"
    ]
    assert result["errors"] == [], result
    assert result["lead"]["convertedCustomer"]["id"] == existing["id"]
    assert result["lead"]["convertedContact"]["isPrimary"] is True  # the customer had none
    assert await count(db, t, Customer) == customers_before
    second = await qualified(gql, name="孙八", companyName="老客户 Existing")
    more = (await gql(CONVERT, {"id": second["id"], "i": {"customerId": existing["id"]}}))[
        "convertLead"
    ]
    assert more["errors"] == [] and more["lead"]["convertedContact"]["isPrimary"] is False


async def test_sales_rep_sees_and_converts_only_own_leads(db, world) -> None:
    admin, sales = world["admin"], world["sales"]
    theirs = await qualified(admin, name="管理员的线索")
    own = await qualified(sales, name="销售的线索")
    page = (await sales(LIST, {"first": 50}))["leads"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["lead"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"score": 5}}, "updateLead"),
        (DELETE, {"id": theirs["id"]}, "deleteLead"),
        (RESTORE, {"id": theirs["id"]}, "restoreLead"),
        (CONVERT, {"id": theirs["id"]}, "convertLead"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = await move(sales, own["id"], ownerId=admin_id)
    assert (handed["errors"][0]["field"], handed["errors"][0]["code"]) == (
        "input.ownerId",
        "FORBIDDEN",
    )
    # The rep's conversion makes a customer the rep owns, hence sees.
    done = (await sales(CONVERT, {"id": own["id"]}))["convertLead"]
    assert done["errors"] == [] and done["lead"]["convertedCustomer"]["owner"] == {"name": "李娜"}
    # Onto a customer outside the rep's scope: not found.
    admins = await create_customer(admin, name="管理员客户 for leads")
    other = await qualified(sales, name="另一个线索")
    refused = (await sales(CONVERT, {"id": other["id"], "i": {"customerId": admins["id"]}}))[
        "convertLead"
    ]
    assert (refused["errors"][0]["field"], refused["errors"][0]["code"]) == (
        "input.customerId",
        "NOT_FOUND",
    )


async def test_viewer_reads_masked_and_cannot_write(world) -> None:
    admin, viewer = world["admin"], world["viewer"]
    made = await new_lead(admin, email="masked.lead@client.cn")
    seen = (await viewer(GET, {"id": made["id"]}))["lead"]
    assert seen["phone"] == "+86138****5678" and "12345678" not in str(seen["phoneRaw"])
    assert "masked.lead" not in seen["email"]
    for probe in ("13812345678", "masked.lead"):
        found = (await viewer(LIST, {"first": 50, "search": probe}))["leads"]
        assert made["id"] not in [e["node"]["id"] for e in found["edges"]], probe
    body = (
        await viewer.post(LIST, {"first": 5, "filter": {"phone": {"eq": "+8613812345678"}}})
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for doc, variables in (
        (CREATE, {"i": BASE}),
        (UPDATE, {"id": made["id"], "i": {"score": 1}}),
        (CONVERT, {"id": made["id"]}),
        (DELETE, {"id": made["id"]}),
    ):
        body = (await viewer.post(doc, variables)).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", doc
    assert allows(Role.sales, "lead:convert") and not allows(Role.service, "lead:create")
    assert not allows(Role.viewer, "lead:convert")


async def test_other_tenants_leads_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_lead"]["id"]
    assert (await a(GET, {"id": theirs}))["lead"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    found = (await a(LIST, {"first": 50, "search": "镜像线索"}))["leads"]
    assert found["totalCount"] == 0
    foreign_owner = to_global_id("User", world["b_sales"].user_id)
    mine = await qualified(a, name="本租户线索")
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"score": 1}}, "updateLead"),
        (DELETE, {"id": theirs}, "deleteLead"),
        (RESTORE, {"id": theirs}, "restoreLead"),
        (DESTROY, {"id": theirs}, "destroyLead"),
        (CONVERT, {"id": theirs}, "convertLead"),
        (CREATE, {"i": {**BASE, "ownerId": foreign_owner}}, "createLead"),
        (
            CONVERT,
            {"id": mine["id"], "i": {"customerId": world["b_customer"]["id"]}},
            "convertLead",
        ),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["lead"]
    assert still["status"] == "QUALIFIED" and still["deletedAt"] is None


PAGE = """
{ leads(first: 30) { totalCount edges { node { id name owner { name }
    convertedCustomer { name owner { name } } convertedContact { name } } } } }
"""


async def test_page_with_relations_costs_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "ld-pager")
    gql = await gql_as(t.admin_email)
    for i in range(30):
        lead = await qualified(gql, name=f"Pager {i:02d}", companyName=f"Pager Co {i:02d}")
        if i % 2:
            assert (await gql(CONVERT, {"id": lead["id"]}))["convertLead"]["errors"] == []
    await gql(PAGE)  # warm
    counts = []
    for first in (5, 30):
        counter = count_statements()
        data = await gql(PAGE.replace("first: 30", f"first: {first}"))
        edges = data["leads"]["edges"]
        assert len(edges) == first
        assert any(e["node"]["convertedCustomer"] for e in edges)
        counts.append(counter.count)
    # auth + page + count + users + customers + contacts
    assert counts[0] == counts[1], counts
    assert counts[0] <= 7, counts
    # And the other direction: a page of customers with the leads converted into them.
    back = "{ customers(first: 15) { edges { node { name leads(first: 2) { name owner { name } } } } } }"
    await gql(back)
    counter = count_statements()
    edges = (await gql(back))["customers"]["edges"]
    assert len(edges) == 15 and all(len(e["node"]["leads"]) == 1 for e in edges)
    assert edges[0]["node"]["leads"][0]["name"].startswith("Pager")
    assert counter.count <= 6, counter.count  # auth + page + count + leads + users
