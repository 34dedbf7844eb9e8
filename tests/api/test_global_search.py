"""Global search: Chinese and English names, pinyin, typos, phones in any format, e-mail;
ranked; scoped, masked and isolated between tenants; a constant number of statements."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, UPDATE, create_customer

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
    # The caller's membership, the exact pass, and (nothing found) the threshold setting, the
    # vocabulary look-up and the corrected pass, then one load per kind found (three at most).
    assert counter.count <= 8


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


async def test_typos_are_corrected_from_the_tenants_own_words(db, gql_as, tenant_b) -> None:
    t = await make_tenant(db, "search-typos")
    admin = await gql_as(t.admin_email)
    await create_customer(admin, name="天津市宏达机械有限公司")
    wells = await create_customer(admin, name="Wellington Outfitters", email="orders@wellout.com")
    # A swap of two letters in pinyin, a dropped letter, a Chinese homophone: each word is
    # replaced by the closest word the company's records hold, then searched as usual.
    assert names(await admin(SEARCH, {"q": "tainjinshi"})) == ["天津市宏达机械有限公司"]
    assert names(await admin(SEARCH, {"q": "Welington Outfiters"})) == ["Wellington Outfitters"]
    assert names(await admin(SEARCH, {"q": "天津是宏达"})) == ["天津市宏达机械有限公司"]
    # Words written by an update are known at once (the vocabulary is kept by the database).
    renamed = await admin(UPDATE, {"id": wells["id"], "i": {"name": "Kestrel Outfitters"}})
    assert renamed["updateCustomer"]["errors"] == [], renamed
    assert names(await admin(SEARCH, {"q": "Kestrle"})) == ["Kestrel Outfitters"]
    # Nothing close: nothing found, not everything.
    assert names(await admin(SEARCH, {"q": "qqxzv"})) == []
    # Tenant B has its own vocabulary: A's words correct nothing there, B's records stay B's.
    b = await gql_as(tenant_b.admin_email)
    assert names(await b(SEARCH, {"q": "Kestrle"})) == []
    assert names(await b(SEARCH, {"q": "tainjinshi"})) == []
    await create_customer(b, name="Kestrel Logistics")
    assert names(await b(SEARCH, {"q": "Kestrle"})) == ["Kestrel Logistics"]
    assert names(await admin(SEARCH, {"q": "Kestrle"})) == ["Kestrel Outfitters"]
    # A masked viewer's typo of an e-mail address corrects into a word of text they cannot
    # search: nothing is found, so the address is not confirmed.
    viewer = await gql_as(t.viewer_email)
    assert names(await viewer(SEARCH, {"q": "orders@welout.com"})) == []
    assert names(await admin(SEARCH, {"q": "orders@welout.com"})) == ["Kestrel Outfitters"]
