"""Keyset pages, filters, ordering and the constant statement count of a page."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import CREATE_CONTACT, PAGE, create_customer


@pytest.fixture(scope="module")
async def paged(db, gql_as):
    t = await make_tenant(db, "pager")
    gql = await gql_as(t.admin_email)
    cities = ["上海市", "北京市", None]
    grades = ["A", "B", "C", None]
    ids = []
    for i in range(23):
        c = await create_customer(
            gql, name=f"Pager {i:02d}", code=f"P-{i:03d}", city=cities[i % 3], grade=grades[i % 4]
        )
        ids.append(c["id"])
        for j in range(i % 3):
            await gql(
                CREATE_CONTACT,
                {"c": c["id"], "i": {"name": f"Contact {i}-{j}", "isPrimary": j == 0}},
            )
    return gql, ids


async def _walk(gql, order, size=5, backwards=False, **extra):
    seen, cursor = [], None
    while True:
        vars_ = {"order": order, **extra}
        if backwards:
            vars_.update(last=size, before=cursor)
        else:
            vars_.update(first=size, after=cursor)
        page = (await gql(PAGE, vars_))["customers"]
        names = [e["node"]["name"] for e in page["edges"]]
        seen = names + seen if backwards else seen + names
        info = page["pageInfo"]
        more = info["hasPreviousPage"] if backwards else info["hasNextPage"]
        if not more:
            return seen, page["totalCount"]
        cursor = info["startCursor"] if backwards else info["endCursor"]


@pytest.mark.parametrize(
    "order",
    [
        [{"field": "NAME", "direction": "ASC"}],
        [
            {"field": "CITY", "direction": "DESC", "nulls": "LAST"},
            {"field": "NAME", "direction": "ASC"},
        ],
        [{"field": "GRADE", "direction": "ASC", "nulls": "FIRST"}],
        [{"field": "CREATED_AT", "direction": "DESC"}],
    ],
)
async def test_forward_and_backward_walks_match_one_big_page(paged, order) -> None:
    gql, ids = paged
    full = [
        e["node"]["name"]
        for e in (await gql(PAGE, {"first": 100, "order": order}))["customers"]["edges"]
    ]
    assert len(full) == len(ids)
    forward, total = await _walk(gql, order)
    backward, _ = await _walk(gql, order, backwards=True)
    assert forward == full
    assert backward == full
    assert total == len(ids)


async def test_filters_combine(paged) -> None:
    gql, _ = paged
    f = {
        "or": [{"city": {"eq": "上海市"}}, {"grade": {"in": ["A"]}}],
        "not": {"name": {"contains": "01"}},
    }
    page = (await gql(PAGE, {"first": 100, "filter": f}))["customers"]
    for edge in page["edges"]:
        node = edge["node"]
        assert node["city"] == "上海市" or node["grade"] == "A"
        assert "01" not in node["name"]
    assert page["totalCount"] == len(page["edges"]) > 0
    nulls = (await gql(PAGE, {"first": 100, "filter": {"city": {"isNull": True}}}))["customers"]
    assert all(e["node"]["city"] is None for e in nulls["edges"]) and nulls["totalCount"] == 7


async def test_like_wildcards_are_literal(paged) -> None:
    gql, _ = paged
    page = (await gql(PAGE, {"first": 10, "filter": {"name": {"contains": "%"}}}))["customers"]
    assert page["totalCount"] == 0


async def test_bad_page_arguments_are_user_errors(paged) -> None:
    gql, _ = paged
    for variables in (
        {"first": 1000},
        {"first": 5, "last": 5},
        {"first": 5, "after": "bogus"},
        {"first": -1},
    ):
        body = (await gql.post(PAGE, variables)).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (variables, body)
    cursor = (await gql(PAGE, {"first": 1}))["customers"]["pageInfo"]["endCursor"]
    other_order = [{"field": "NAME", "direction": "DESC"}]
    body = (await gql.post(PAGE, {"first": 1, "after": cursor, "order": other_order})).json()
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_cost_limit_refuses_huge_nested_queries(paged) -> None:
    gql, _ = paged
    huge = "{ a: customers(first: 100) { edges { node { contacts { customer { contacts { customer { contacts { name } } } } } } } } }"
    body = (await gql.post(huge)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cost" in body["errors"][0]["message"]


PAGE_WITH_RELATED = """
{ customers(first: 50) { totalCount edges { node { id name owner { name } contacts { name phones { number } customer { name } } } } } }
"""


async def test_page_costs_constant_statements(paged, count_statements) -> None:
    gql, _ = paged
    await gql(PAGE_WITH_RELATED)  # warm: first use of the token's membership lookup etc.
    counts = []
    for first in (5, 23):
        counter = count_statements()
        data = await gql(PAGE_WITH_RELATED.replace("first: 50", f"first: {first}"))
        assert len(data["customers"]["edges"]) == first
        counts.append(counter.count)
    # auth (1) + page (1) + count (1) + contacts (1) + owners (1); customer loader is primed.
    assert counts[0] == counts[1]
    assert counts[0] <= 5, counts


async def test_overlong_search_is_a_user_error(paged) -> None:
    gql, _ = paged
    for field in ("customers", "contacts"):
        body = (
            await gql.post(f'{{ {field}(first: 1, search: "{"x" * 101}") {{ totalCount }} }}')
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["field"] == "search"
