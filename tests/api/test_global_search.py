"""Global search: Chinese and English names, pinyin, typos, phones in any format, e-mail;
ranked; scoped, masked and isolated between tenants; a constant number of statements."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, create_customer

SEARCH = """
query($q: String!, $kinds: [SearchKind!], $first: Int! = 10) {
  search(query: $q, kinds: $kinds, first: $first) {
    kind score node { id __typename ... on Customer { name } ... on Contact { name } ... on Lead { name } }
  }
}"""


def names(result):
    return [h["node"]["name"] for h in result["search"]]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "search-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    zhang = await create_customer(admin, name="张伟", kind="INDIVIDUAL", phone="+86 138 0013 8000")
    await create_customer(admin, name="Zhangjiakou Trading", email="info@zjk-trading.cn")
    acme = await create_customer(admin, name="Acme Robotics", email="sales@acme-robotics.com")
    await create_customer(admin, name="北京星辰科技有限公司")
    contact = (await admin(CREATE_CONTACT, {"c": acme["id"], "i": {"name": "Margaret Thompson"}}))[
        "createContact"
    ]["contact"]
    rep = await create_customer(sales, name="Rep Searchable Holdings")
    b = await gql_as(tenant_b.admin_email)
    await create_customer(b, name="张伟", kind="INDIVIDUAL")
    return {"admin": admin, "sales": sales, "b": b, "zhang": zhang, "contact": contact, "rep": rep}


async def test_chinese_pinyin_and_typos(world) -> None:
    gql = world["admin"]
    assert names(await gql(SEARCH, {"q": "张伟"}))[0] == "张伟"
    assert names(await gql(SEARCH, {"q": "zhang wei"}))[0] == "张伟"
    assert names(await gql(SEARCH, {"q": "zhangwei"}))[0] == "张伟"
    # A homophone typed by mistake, and a Latin typo.
    assert "张伟" in names(await gql(SEARCH, {"q": "张卫"}))
    assert names(await gql(SEARCH, {"q": "Acme Robotcs"}))[0] == "Acme Robotics"
    assert names(await gql(SEARCH, {"q": "xingchen"}))[0] == "北京星辰科技有限公司"


async def test_phone_email_contacts_and_ranking(world) -> None:
    gql = world["admin"]
    for phone in ("13800138000", "138-0013-8000", "+86 138 0013 8000"):
        assert names(await gql(SEARCH, {"q": phone}))[0] == "张伟", phone
    assert names(await gql(SEARCH, {"q": "sales@acme-robotics.com"}))[0] == "Acme Robotics"
    hit = (await gql(SEARCH, {"q": "Margaret Thomson"}))["search"][0]
    assert hit["kind"] == "CONTACT" and hit["node"]["id"] == world["contact"]["id"]
    only = await gql(SEARCH, {"q": "Acme", "kinds": ["CONTACT"]})
    assert all(h["kind"] == "CONTACT" for h in only["search"])
    ranked = (await gql(SEARCH, {"q": "zhang"}))["search"]
    scores = [h["score"] for h in ranked]
    assert scores == sorted(scores, reverse=True) and len(ranked) >= 2


async def test_scope_masking_and_tenants(world) -> None:
    assert names(await world["sales"](SEARCH, {"q": "张伟"})) == []
    assert names(await world["sales"](SEARCH, {"q": "Rep Searchable"})) == [
        "Rep Searchable Holdings"
    ]
    b_hits = (await world["b"](SEARCH, {"q": "张伟"}))["search"]
    assert len(b_hits) == 1 and b_hits[0]["node"]["id"] != world["zhang"]["id"]
    assert names(await world["b"](SEARCH, {"q": "Acme"})) == []


async def test_masked_role_cannot_find_by_phone(db, gql_as, world) -> None:
    t = await make_tenant(db, "search-masked")
    admin = await gql_as(t.admin_email)
    await create_customer(admin, name="Masked Phone Co", phone="+86 139 0013 9000")
    viewer = await gql_as(t.viewer_email)
    assert names(await viewer(SEARCH, {"q": "13900139000"})) == []
    assert names(await viewer(SEARCH, {"q": "Masked Phone"})) == ["Masked Phone Co"]


async def test_bad_queries_and_statement_count(world, count_statements) -> None:
    with pytest.raises(AssertionError, match="type something"):
        await world["admin"](SEARCH, {"q": "   "})
    with pytest.raises(AssertionError, match="between 1 and"):
        await world["admin"](SEARCH, {"q": "acme", "first": 500})
    counter = count_statements()
    await world["admin"](SEARCH, {"q": "a"})
    # The caller's membership, the exact pass, and (the page not being full) the threshold
    # setting and the fuzzy pass, then one load per kind found (three kinds at most).
    assert counter.count <= 7


LEAD = """
mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id } errors { field message } } }"""


async def test_leads_are_found_by_company_pinyin_and_phone(world) -> None:
    gql = world["admin"]
    made = (
        await gql(
            LEAD, {"i": {"name": "李明", "companyName": "星河贸易", "phone": "+86 139 1111 2222"}}
        )
    )["createLead"]
    assert made["errors"] == [], made
    for query in ("星河贸易", "xinghe maoyi", "李明", "13911112222"):
        hits = (await gql(SEARCH, {"q": query}))["search"]
        assert hits and hits[0]["kind"] == "LEAD" and hits[0]["node"]["id"] == made["lead"]["id"], (
            query
        )
    only_customers = (await gql(SEARCH, {"q": "李明", "kinds": ["CUSTOMER"]}))["search"]
    assert all(h["kind"] == "CUSTOMER" for h in only_customers)
    assert (await world["b"](SEARCH, {"q": "星河贸易"}))["search"] == []
