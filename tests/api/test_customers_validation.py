"""Bad input gets a typed error naming the field, and nothing is written."""

from __future__ import annotations

import pytest
from gqldocs import CREATE, UPDATE, create_customer


async def _count(gql) -> int:
    return (await gql("{ customers(first: 0) { totalCount } }"))["customers"]["totalCount"]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"phone": "12345"}, "input.phone", "INVALID"),
        ({"phone": "not a phone"}, "input.phone", "INVALID"),
        ({"email": "wang@@example"}, "input.email", "INVALID"),
        ({"email": "no-at-sign.example.com"}, "input.email", "INVALID"),
        ({"name": "x" * 201}, "input.name", "TOO_LONG"),
        ({"name": "   "}, "input.name", "REQUIRED"),
        ({"postalCode": "1000<script>"}, "input.postalCode", "INVALID"),
        ({"country": "China"}, "input.country", "INVALID"),
        ({"distanceKm": "-3"}, "input.distanceKm", "INVALID"),
        ({"tags": ["x" * 51]}, "input.tags.0", "TOO_LONG"),
        (
            {"doNotVisit": [{"start": "25:00", "end": "26:00"}]},
            "input.doNotVisit.0.start",
            "INVALID",
        ),
        ({"ownerId": "VXNlcjpub3QtYS11dWlk"}, "input.ownerId", "INVALID"),
    ],
)
async def test_invalid_field_is_named_and_nothing_written(
    gql_as, tenant_a, fields, field, code
) -> None:
    gql = await gql_as(tenant_a.admin_email)
    before = await _count(gql)
    data = {"name": "Valid Name", "kind": "COMPANY", **fields}
    result = (await gql(CREATE, {"i": data}))["createCustomer"]
    assert result["customer"] is None
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in result["errors"]
    ], result
    assert all("@@" not in e["message"] for e in result["errors"]), "messages must not echo input"
    assert await _count(gql) == before


async def test_several_problems_reported_together(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    result = (
        await gql(CREATE, {"i": {"name": "A", "kind": "COMPANY", "phone": "1", "email": "bad"}})
    )["createCustomer"]
    assert {e["field"] for e in result["errors"]} == {"input.phone", "input.email"}


async def test_unknown_enum_value_is_a_graphql_validation_error(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    response = await gql.post(CREATE, {"i": {"name": "A", "kind": "PLANET"}})
    assert response.status_code in (200, 400)
    body = response.json()
    assert body["errors"] and "kind" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_ids_are_field_errors(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    for bad in ("", "garbage", "Q3VzdG9tZXI6MTIz"):  # the last is "Customer:123"
        result = (await gql(UPDATE, {"id": bad, "i": {"name": "x"}}))["updateCustomer"]
        assert result["errors"][0]["field"] == "id"
        assert result["errors"][0]["code"] == "INVALID"
    response = await gql.post("query($id: ID!) { customer(id: $id) { id } }", {"id": "garbage"})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert response.status_code == 200


async def test_duplicate_code_is_reported(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    await create_customer(gql, name="First", code="DUP-1")
    result = (await gql(CREATE, {"i": {"name": "Second", "kind": "COMPANY", "code": "dup-1"}}))[
        "createCustomer"
    ]
    assert result["errors"] == [
        {"field": "input.code", "code": "DUPLICATE", "message": "another customer has this code"}
    ]


async def test_create_many_is_all_or_nothing(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    before = await _count(gql)
    query = "mutation($l: [CreateCustomerInput!]!) { createCustomers(inputs: $l) { customers { id } errors { field code } } }"
    items = [{"name": "Ok 1", "kind": "COMPANY"}, {"name": "Bad", "kind": "COMPANY", "email": "x@"}]
    result = (await gql(query, {"l": items}))["createCustomers"]
    assert result["customers"] == []
    assert result["errors"] == [{"field": "inputs.1.email", "code": "INVALID"}]
    assert await _count(gql) == before
    too_many = [{"name": f"N{i}", "kind": "COMPANY"} for i in range(101)]
    result = (await gql(query, {"l": too_many}))["createCustomers"]
    assert result["errors"][0]["code"] == "LIMIT_EXCEEDED"


async def test_update_with_stale_version_is_a_conflict(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    c = await create_customer(gql, name="Versioned")
    first = (await gql(UPDATE, {"id": c["id"], "i": {"industry": "制造业"}, "v": c["version"]}))[
        "updateCustomer"
    ]
    assert first["errors"] == [] and first["customer"]["version"] == c["version"] + 1
    stale = (await gql(UPDATE, {"id": c["id"], "i": {"industry": "零售"}, "v": c["version"]}))[
        "updateCustomer"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert stale["errors"][0]["field"] == "version"


async def test_invalid_update_leaves_record_as_it_was(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    c = await create_customer(gql, name="Keep Me", phone="13812345678")
    result = (await gql(UPDATE, {"id": c["id"], "i": {"name": "Changed", "phone": "000"}}))[
        "updateCustomer"
    ]
    assert result["errors"][0]["field"] == "input.phone"
    again = (
        await gql("query($id: ID!) { customer(id: $id) { name phone version } }", {"id": c["id"]})
    )["customer"]
    assert again == {"name": "Keep Me", "phone": "+8613812345678", "version": c["version"]}


async def test_explicit_null_clears_optional_and_refuses_required(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    c = await create_customer(gql, name="Clearable", email="a@b.cn")
    cleared = (await gql(UPDATE, {"id": c["id"], "i": {"email": None}}))["updateCustomer"]
    assert cleared["errors"] == [] and cleared["customer"]["email"] is None
    refused = (await gql(UPDATE, {"id": c["id"], "i": {"name": None}}))["updateCustomer"]
    assert refused["errors"][0] == {
        "field": "input.name",
        "code": "REQUIRED",
        "message": "cannot be empty",
    }


async def test_invalid_date_is_a_request_error_naming_the_field(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    before = await _count(gql)
    response = await gql.post(
        CREATE, {"i": {"name": "Dated", "kind": "INDIVIDUAL", "birthDate": "1990-02-31"}}
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "birthDate" in body["errors"][0]["message"]
    assert await _count(gql) == before
    dates = {
        "name": "Dated",
        "kind": "COMPANY",
        "importantDates": [{"label": "founded", "date": "2010-5-1"}],
    }
    body = (await gql.post(CREATE, {"i": dates})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
