"""Members and teams: managed by admins, scoped to the company, feeding the data scopes."""

from __future__ import annotations

import pytest
from crmtest import PASSWORD
from gqldocs import create_customer

from crm_api.relay import to_global_id
from crm_core.identity.service import create_user
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Role

SAVE_TEAM = "mutation($id: ID, $i: TeamInput!) { saveTeam(id: $id, input: $i) { team { id name managerId } errors { field code } } }"
UPDATE_MEMBER = "mutation($u: ID!, $i: MemberInput!) { updateMember(userId: $u, input: $i) { role teamId isActive errors { field code message } } }"


@pytest.fixture(scope="module")
async def company(db, gql_as):
    await tenants.create(db, tenants.TenantInput(slug="teamco", name="Team Co"))
    ids = {}
    for name, role in (
        ("owner", Role.owner),
        ("admin", Role.admin),
        ("boss", Role.manager),
        ("rep", Role.sales),
    ):
        user = await create_user(
            db,
            email=f"{name}@teamco.cn",
            name=name,
            password=PASSWORD,
            tenant_slug="teamco",
            role=role,
        )
        ids[name] = to_global_id("User", user.id)
    gql = {name: await gql_as(f"{name}@teamco.cn", "teamco") for name in ids}
    return ids, gql


async def test_admin_builds_a_team_and_the_manager_sees_its_records(company) -> None:
    ids, gql = company
    rep_customer = await create_customer(gql["rep"], name="Rep's account")
    assert (await gql["boss"]("{ customers(first: 5) { totalCount } }"))["customers"][
        "totalCount"
    ] == 0
    team = (
        await gql["admin"](SAVE_TEAM, {"i": {"name": " North  China ", "managerId": ids["boss"]}})
    )["saveTeam"]
    assert team["errors"] == [] and team["team"]["name"] == "North China"
    moved = (
        await gql["admin"](UPDATE_MEMBER, {"u": ids["rep"], "i": {"teamId": team["team"]["id"]}})
    )["updateMember"]
    assert moved["errors"] == [] and moved["teamId"] == team["team"]["id"]
    seen = await gql["boss"]("{ customers(first: 5) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in seen["customers"]["edges"]] == [rep_customer["id"]]
    dup = (await gql["admin"](SAVE_TEAM, {"i": {"name": "North China"}}))["saveTeam"]
    assert dup["errors"] == [{"field": "input.name", "code": "DUPLICATE"}]
    listed = await gql["admin"]("{ members { user { name } role team { name } } teams { name } }")
    assert {m["user"]["name"]: m["team"] and m["team"]["name"] for m in listed["members"]}[
        "rep"
    ] == "North China"


async def test_the_last_owner_stays_and_only_owners_make_owners(company) -> None:
    ids, gql = company
    demote = (await gql["owner"](UPDATE_MEMBER, {"u": ids["owner"], "i": {"role": "ADMIN"}}))[
        "updateMember"
    ]
    assert demote["errors"][0]["code"] == "INVALID"
    promote = (await gql["admin"](UPDATE_MEMBER, {"u": ids["admin"], "i": {"role": "OWNER"}}))[
        "updateMember"
    ]
    assert promote["errors"][0]["code"] == "FORBIDDEN"
    body = (await gql["rep"].post(UPDATE_MEMBER, {"u": ids["rep"], "i": {"role": "ADMIN"}})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_other_companies_people_are_out_of_reach(company, tenant_b) -> None:
    _, gql = company
    foreign = to_global_id("User", tenant_b.admin.user_id)
    result = (await gql["admin"](UPDATE_MEMBER, {"u": foreign, "i": {"isActive": False}}))[
        "updateMember"
    ]
    assert result["errors"][0]["code"] == "NOT_FOUND"
    team = (await gql["admin"](SAVE_TEAM, {"i": {"name": "Intruders", "managerId": foreign}}))[
        "saveTeam"
    ]
    assert team["errors"] == [{"field": "input.managerId", "code": "NOT_FOUND"}]
    names = {
        m["user"]["name"] for m in (await gql["admin"]("{ members { user { name } } }"))["members"]
    }
    assert names == {"owner", "admin", "boss", "rep"}
