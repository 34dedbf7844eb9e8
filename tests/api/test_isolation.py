"""Two tenants with look-alike data: every query, node lookup, loader and mutation sees only its own."""

from __future__ import annotations

import pytest
from gqldocs import CREATE_CONTACT, DELETE, DESTROY, GET, NODE, RESTORE, UPDATE, create_customer

from crm_core.tenants import service as tenants
from crm_core.tenants.models import TenantStatus


@pytest.fixture(scope="module")
async def twins(gql_as, tenant_a, tenant_b):
    """The same customer and contact, by name, code and phone, in both tenants."""
    a = await gql_as(tenant_a.admin_email)
    b = await gql_as(tenant_b.admin_email)
    out = {}
    for key, gql in (("a", a), ("b", b)):
        c = await create_customer(gql, name="孪生科技有限公司", code="TWIN-1", phone="13900001111")
        contact = await gql(
            CREATE_CONTACT,
            {"c": c["id"], "i": {"name": "王芳", "phones": [{"number": "13900002222"}]}},
        )
        out[key] = {"gql": gql, "customer": c, "contact": contact["createContact"]["contact"]}
    return out


async def test_lists_and_search_see_only_own_tenant(twins) -> None:
    for key in ("a", "b"):
        gql, mine = twins[key]["gql"], twins[key]["customer"]
        found = await gql(
            '{ customers(first: 50, search: "孪生") { totalCount edges { node { id } } } }'
        )
        ids = {e["node"]["id"] for e in found["customers"]["edges"]}
        assert ids == {mine["id"]}
        assert found["customers"]["totalCount"] == 1
        contacts = await gql(
            '{ contacts(first: 50, search: "13900002222") { edges { node { id customer { id } } } } }'
        )
        assert [e["node"]["customer"]["id"] for e in contacts["contacts"]["edges"]] == [mine["id"]]


async def test_other_tenants_ids_are_not_found(twins) -> None:
    a, theirs = twins["a"]["gql"], twins["b"]
    assert (await a(GET, {"id": theirs["customer"]["id"]}))["customer"] is None
    assert (await a(NODE, {"id": theirs["customer"]["id"]}))["node"] is None
    assert (await a(NODE, {"id": theirs["contact"]["id"]}))["node"] is None
    assert (
        await a("query($id: ID!) { contact(id: $id) { id } }", {"id": theirs["contact"]["id"]})
    )["contact"] is None


async def test_mutations_cannot_touch_other_tenant(twins) -> None:
    a, theirs = twins["a"]["gql"], twins["b"]
    cid = theirs["customer"]["id"]
    for doc, variables, name in (
        (UPDATE, {"id": cid, "i": {"name": "hijacked"}}, "updateCustomer"),
        (DELETE, {"id": cid}, "deleteCustomer"),
        (RESTORE, {"id": cid}, "restoreCustomer"),
        (DESTROY, {"id": cid}, "destroyCustomer"),
        (CREATE_CONTACT, {"c": cid, "i": {"name": "intruder"}}, "createContact"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    contact_update = (
        'mutation($id: ID!) { updateContact(id: $id, input: {name: "x"}) { errors { code } } }'
    )
    assert (await a(contact_update, {"id": theirs["contact"]["id"]}))["updateContact"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    still = await theirs["gql"](GET, {"id": cid})
    assert (
        still["customer"]["name"] == "孪生科技有限公司" and still["customer"]["deletedAt"] is None
    )


async def test_owner_from_other_tenant_is_refused_and_not_leaked(twins, tenant_b) -> None:
    from crm_api.relay import to_global_id

    a = twins["a"]["gql"]
    foreign_owner = to_global_id("User", tenant_b.sales.user_id)
    result = (
        await a(UPDATE, {"id": twins["a"]["customer"]["id"], "i": {"ownerId": foreign_owner}})
    )["updateCustomer"]
    assert (
        result["errors"][0]["field"] == "input.ownerId"
        and result["errors"][0]["code"] == "NOT_FOUND"
    )
    assert (await a(NODE, {"id": foreign_owner}))["node"] is None


async def test_suspended_tenant_is_refused_everywhere(db, app, gql_as) -> None:
    from crmtest import GQL, LOGIN, PASSWORD, make_tenant

    t = await make_tenant(db, "charlie")
    gql = await gql_as(t.admin_email)
    await create_customer(gql, name="Before suspension")
    await tenants.set_status(db, "charlie", TenantStatus.suspended)
    try:
        response = await gql.post("{ customers(first: 1) { totalCount } }")
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        login = await GQL(app)(
            LOGIN, {"i": {"email": t.admin_email, "password": PASSWORD, "tenant": "charlie"}}
        )
        assert login["login"]["session"] is None
    finally:
        await tenants.set_status(db, "charlie", TenantStatus.active)
    assert (await gql("{ customers(first: 1) { totalCount } }"))["customers"]["totalCount"] == 1
