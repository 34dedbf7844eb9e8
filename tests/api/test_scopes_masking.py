"""Data scopes (own / team / all, per tenant) and personal-data masking, on every read path."""

from __future__ import annotations

import pytest
from crmtest import PASSWORD
from gqldocs import CREATE_CONTACT, GET, NODE, UPDATE, create_customer
from sqlalchemy import select

from crm_api.relay import to_global_id
from crm_core.identity.models import Team
from crm_core.identity.service import create_user
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Role, Tenant

SLUG = "scoped"
USERS = {
    "admin": (Role.admin, None),
    "manager": (Role.manager, "east"),
    "sales1": (Role.sales, "east"),
    "sales2": (Role.sales, "west"),
    "service": (Role.service, None),
    "viewer": (Role.viewer, None),
}


def email(name: str) -> str:
    return f"{name}@{SLUG}.cn"


@pytest.fixture(scope="module")
async def world(db, gql_as):
    tenant, _ = await tenants.create(db, tenants.TenantInput(slug=SLUG, name="Scoped Co"))
    ids = {}
    for name, (role, team) in USERS.items():
        user = await create_user(
            db,
            email=email(name),
            name=name,
            password=PASSWORD,
            tenant_slug=SLUG,
            role=role,
            team=team,
        )
        ids[name] = user.id
    async with db.core_transaction() as session:
        east = (
            await session.execute(
                select(Team).where(Team.tenant_id == tenant.id, Team.name == "east")
            )
        ).scalar_one()
        east.manager_user_id = ids["manager"]
    gql = {name: await gql_as(email(name), SLUG) for name in USERS}
    made = {}
    for name in ("sales1", "sales2", "manager"):
        made[name] = await create_customer(
            gql[name], name=f"{name} 客户", phone="13812345678", email=f"buyer.{name}@client.cn"
        )
    made["pool"] = await create_customer(gql["admin"], name="公海 customer", ownerId=None)
    contact = await gql["sales2"](
        CREATE_CONTACT,
        {
            "c": made["sales2"]["id"],
            "i": {"name": "West Contact", "phones": [{"number": "13900001111"}]},
        },
    )
    made["sales2_contact"] = contact["createContact"]["contact"]
    return {"tenant": tenant, "ids": ids, "gql": gql, "made": made}


async def names(gql, query="{ customers(first: 50) { totalCount edges { node { name } } } }"):
    page = (await gql(query))["customers"]
    got = sorted(e["node"]["name"] for e in page["edges"])
    assert page["totalCount"] == len(got)
    return got


async def test_each_role_sees_its_scope(world) -> None:
    g = world["gql"]
    assert await names(g["sales1"]) == ["sales1 客户"]
    assert await names(g["sales2"]) == ["sales2 客户"]
    assert await names(g["manager"]) == ["manager 客户", "sales1 客户"]
    everything = ["manager 客户", "sales1 客户", "sales2 客户", "公海 customer"]
    assert await names(g["admin"]) == everything
    assert await names(g["viewer"]) == everything


async def test_out_of_scope_records_do_not_exist(world) -> None:
    g, made = world["gql"], world["made"]
    theirs = made["sales2"]["id"]
    assert (await g["sales1"](GET, {"id": theirs}))["customer"] is None
    assert (await g["sales1"](NODE, {"id": theirs}))["node"] is None
    assert (await g["sales1"](NODE, {"id": made["sales2_contact"]["id"]}))["node"] is None
    contacts = await g["sales1"]("{ contacts(first: 50) { totalCount } }")
    assert contacts["contacts"]["totalCount"] == 0
    result = (await g["sales1"](UPDATE, {"id": theirs, "i": {"name": "taken"}}))["updateCustomer"]
    assert result["errors"][0]["code"] == "NOT_FOUND"
    search = await g["sales1"]('{ customers(first: 5, search: "sales2") { totalCount } }')
    assert search["customers"]["totalCount"] == 0


async def test_owner_assignment_stays_in_scope(world) -> None:
    g, ids = world["gql"], world["ids"]
    other = to_global_id("User", ids["sales2"])
    result = (
        await g["sales1"](UPDATE, {"id": world["made"]["sales1"]["id"], "i": {"ownerId": other}})
    )["updateCustomer"]
    assert result["errors"][0] == {
        "field": "input.ownerId",
        "code": "FORBIDDEN",
        "message": "outside the records you manage",
    }


async def test_manager_transfers_within_team(world) -> None:
    g, ids, made = world["gql"], world["ids"], world["made"]
    transfer = "mutation($ids: [ID!]!, $to: ID!) { transferCustomers(ids: $ids, toOwnerId: $to) { customers { owner { name } } errors { field code } } }"
    out = (
        await g["manager"](
            transfer, {"ids": [made["sales1"]["id"]], "to": to_global_id("User", ids["manager"])}
        )
    )["transferCustomers"]
    assert out["errors"] == [] and out["customers"][0]["owner"]["name"] == "manager"
    assert await names(g["sales1"]) == []
    refused = (
        await g["manager"](
            transfer, {"ids": [made["sales2"]["id"]], "to": to_global_id("User", ids["manager"])}
        )
    )["transferCustomers"]
    assert refused["errors"] == [{"field": "ids.0", "code": "NOT_FOUND"}]
    back = (
        await g["admin"](
            transfer, {"ids": [made["sales1"]["id"]], "to": to_global_id("User", ids["sales1"])}
        )
    )["transferCustomers"]
    assert back["errors"] == []
    body = (
        await g["sales1"].post(
            transfer, {"ids": [made["sales1"]["id"]], "to": to_global_id("User", ids["sales1"])}
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_tenant_can_widen_a_roles_scope(db, world) -> None:
    g = world["gql"]
    async with db.core_transaction() as session:
        row = await session.get(Tenant, world["tenant"].id)
        row.settings = {
            **row.settings,
            "data_scope": {**row.settings.get("data_scope", {}), "sales": "team"},
        }
    try:
        assert await names(g["sales1"]) == ["manager 客户", "sales1 客户"]
    finally:
        async with db.core_transaction() as session:
            row = await session.get(Tenant, world["tenant"].id)
            row.settings = {
                **row.settings,
                "data_scope": {**row.settings.get("data_scope", {}), "sales": "own"},
            }
    assert await names(g["sales1"]) == ["sales1 客户"]


async def test_personal_data_is_masked_everywhere_for_roles_without_it(world) -> None:
    g, made = world["gql"], world["made"]
    query = "query($id: ID!) { customer(id: $id) { phone phoneRaw email contacts { phones { number raw } } } }"
    clear = (await g["sales2"](query, {"id": made["sales2"]["id"]}))["customer"]
    assert clear["phone"] == "+8613812345678"
    assert clear["email"] == "buyer.sales2@client.cn"
    for role in ("viewer", "service"):
        masked = (await g[role](query, {"id": made["sales2"]["id"]}))["customer"]
        assert masked is not None, role
        assert masked["phone"] == "+86138****5678"
        assert "13812345678" not in str(masked)
        assert masked["email"].endswith("@client.cn") and "buyer" not in masked["email"]
        assert masked["contacts"][0]["phones"][0]["number"] != "+8613900001111"
        page = await g[role]("{ customers(first: 50) { edges { node { phone email } } } }")
        assert "13812345678" not in str(page)
        listed = await g[role](
            "{ contacts(first: 50) { edges { node { phones { number raw } } } } }"
        )
        assert "13900001111" not in str(listed)


async def test_masked_roles_cannot_filter_or_search_on_personal_data(world) -> None:
    viewer = world["gql"]["viewer"]
    body = (
        await viewer.post(
            '{ customers(first: 5, filter: {or: [{phone: {eq: "+8613812345678"}}]}) { totalCount } }'
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["field"] == "filter.or.0.phone"
    for probe in ("13812345678", "buyer.sales2"):
        found = await viewer(f'{{ customers(first: 5, search: "{probe}") {{ totalCount }} }}')
        assert found["customers"]["totalCount"] == 0, probe
    assert (await viewer('{ customers(first: 5, search: "sales2") { totalCount } }'))["customers"][
        "totalCount"
    ] == 1
    sales = world["gql"]["sales2"]
    assert (await sales('{ customers(first: 5, search: "13812345678") { totalCount } }'))[
        "customers"
    ]["totalCount"] == 1
