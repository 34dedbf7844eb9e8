"""The endpoint follows the GraphQL-over-HTTP specification."""

from __future__ import annotations

import httpx
import pytest

from crm_api.http import choose_media_type

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json;q=0.9", "application/json"),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("*/*", "application/json"),
        ("application/xml", None),
        ("application/json;q=0", None),
    ],
)
def test_media_type_negotiation(accept, media) -> None:
    assert choose_media_type(accept) == media


async def test_executed_and_request_errors(client, gql_as, tenant_a) -> None:
    token = (await gql_as(tenant_a.admin_email)).token
    headers = {"accept": GRAPHQL_RESPONSE, "authorization": f"Bearer {token}"}
    ok = await client.post(
        "/graphql", json={"query": "{ customers(first: 1) { totalCount } }"}, headers=headers
    )
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    for bad in ("{ customers(first: 1) {", "{ noSuchField }"):
        response = await client.post("/graphql", json={"query": bad}, headers=headers)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert "data" not in response.json()
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Legacy clients (application/json) get 200 with the errors in the body.
    legacy = await client.post(
        "/graphql", json={"query": "{ noSuchField }"}, headers={"authorization": f"Bearer {token}"}
    )
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    # A field error during execution is still a 200: the operation ran.
    ran = await client.post(
        "/graphql", json={"query": '{ customer(id: "garbage") { id } }'}, headers=headers
    )
    assert ran.status_code == 200
    assert "data" in ran.json()


async def test_get_is_for_queries_only(client, gql_as, tenant_a) -> None:
    token = (await gql_as(tenant_a.admin_email)).token
    headers = {"accept": GRAPHQL_RESPONSE, "authorization": f"Bearer {token}"}
    query = await client.get(
        "/graphql", params={"query": "{ customers(first: 1) { totalCount } }"}, headers=headers
    )
    assert query.status_code == 200
    mutation = 'mutation { deleteCustomer(id: "x") { errors { code } } }'
    refused = await client.get("/graphql", params={"query": mutation}, headers=headers)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert refused.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_transport_errors_are_json(client) -> None:
    bad_json = await client.post(
        "/graphql", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    wrong_type = await client.post(
        "/graphql", content=b"query", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    refused = await client.post(
        "/graphql", json={"query": "{ viewer { role } }"}, headers={"accept": "text/csv"}
    )
    assert refused.status_code == 406
