"""API clients end to end: managed over GraphQL by a tenant admin, tokens from ``POST /oauth/token``
(client-credentials grant, RFC 6749 §4.4), and the gateway honouring scopes, rotation, revocation,
suspension and tenant isolation. Everything runs against the real gateway, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
import secrets
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from crmtest import GQL, make_tenant, token_service
from gqldocs import create_customer
from sqlalchemy import select, update

from crm_api.relay import from_global_id, to_global_id
from crm_core.identity.models import PlatformAuditEvent
from crm_core.tenants import service as tenants
from crm_core.tenants.models import ApiClient, TenantStatus

FIELDS = "id clientId name scopes previousSecretExpiresAt lastUsedAt revokedAt createdAt"
ERRORS = "errors { field code message }"
CREATE = f"mutation($i: CreateApiClientInput!) {{ createApiClient(input: $i) {{ apiClient {{ {FIELDS} }} clientSecret {ERRORS} }} }}"
ROTATE = f"mutation($id: ID!, $h: Float!) {{ rotateApiClientSecret(id: $id, overlapHours: $h) {{ apiClient {{ {FIELDS} }} clientSecret {ERRORS} }} }}"
ROTATE_DEFAULT = f"mutation($id: ID!) {{ rotateApiClientSecret(id: $id) {{ apiClient {{ {FIELDS} }} clientSecret {ERRORS} }} }}"
REVOKE = (
    f"mutation($id: ID!) {{ revokeApiClient(id: $id) {{ apiClient {{ {FIELDS} }} {ERRORS} }} }}"
)
LIST = f"query($r: Boolean!) {{ apiClients(includeRevoked: $r) {{ {FIELDS} }} }}"
CUSTOMERS = "{ customers(first: 5) { totalCount } }"
CREATE_CUSTOMER = 'mutation { createCustomer(input: {name: "经由接口", kind: COMPANY}) { customer { id } errors { field code } } }'
CREATE_OWNED = 'mutation($o: ID!) { createCustomer(input: {name: "经由接口", kind: COMPANY, ownerId: $o}) { customer { id } errors { field code } } }'
READ = ["contact:read", "customer:read"]


# -- helpers --------------------------------------------------------------------------------------


def basic(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1: both parts are form-encoded before being joined and base64-encoded.
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


async def token_request(
    app: Any,
    client_id: str | None,
    secret: str | None,
    *,
    method: str = "basic",
    scope: str | None = None,
    grant_type: str | None = "client_credentials",
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    form: dict[str, str] = {}
    headers: dict[str, str] = {}
    if grant_type is not None:
        form["grant_type"] = grant_type
    if scope is not None:
        form["scope"] = scope
    if client_id is not None and secret is not None:
        if method == "basic":
            headers["authorization"] = basic(client_id, secret)
        else:
            form["client_id"], form["client_secret"] = client_id, secret
    form.update(extra or {})
    return await GQL(app).client.post("/oauth/token", data=form, headers=headers)


async def access_token(app: Any, client: dict[str, Any], **kwargs: Any) -> str:
    response = await token_request(app, client["clientId"], client["secret"], **kwargs)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def new_client(gql: GQL, scopes: list[str], name: str = "ERP sync") -> dict[str, Any]:
    payload = (await gql(CREATE, {"i": {"name": name, "scopes": scopes}}))["createApiClient"]
    assert payload["errors"] == [], payload
    return {**payload["apiClient"], "secret": payload["clientSecret"]}


def error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@pytest.fixture(scope="module")
async def admin_a(gql_as: Any, tenant_a: Any) -> GQL:
    return await gql_as(tenant_a.admin_email)


@pytest.fixture(scope="module")
async def admin_b(gql_as: Any, tenant_b: Any) -> GQL:
    return await gql_as(tenant_b.admin_email)


# -- the flow -------------------------------------------------------------------------------------


async def test_admin_creates_client_and_it_gets_tokens_by_basic_and_post(
    app: Any, db: Any, admin_a: GQL, tenant_a: Any
) -> None:
    client = await new_client(admin_a, ["customer:read", "customer:create", "contact:read"])
    assert client["clientId"].startswith("crm_")
    assert client["secret"].startswith("crmsec_") and len(client["secret"]) >= 43 + 7
    assert client["scopes"] == ["contact:read", "customer:create", "customer:read"]

    for method in ("basic", "post"):
        response = await token_request(app, client["clientId"], client["secret"], method=method)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        # RFC 6749 §4.4.3: no refresh token for this grant.
        assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
        assert body["token_type"] == "Bearer"
        assert 0 < body["expires_in"] <= 900
        assert body["scope"] == "contact:read customer:create customer:read"

        api = GQL(app, body["access_token"])
        assert (await api(CUSTOMERS))["customers"]["totalCount"] >= 0
        owner = to_global_id("User", tenant_a.admin.user_id)
        created = (await api(CREATE_OWNED, {"o": owner}))["createCustomer"]
        assert created["errors"] == [] and created["customer"]["id"]

    # Stored as a hash only; the secret is nowhere else to be read.
    async with db.core_session() as session:
        row = (
            await session.execute(
                select(ApiClient).where(ApiClient.client_id == client["clientId"])
            )
        ).scalar_one()
    assert row.secret_hash.startswith("sha256:") and client["secret"] not in row.secret_hash
    assert row.last_used_at is not None
    listed = await admin_a.post(LIST, {"r": True})
    assert client["clientId"] in listed.text and client["secret"] not in listed.text


async def test_scope_limited_client_is_forbidden_outside_its_scopes(app: Any, admin_a: GQL) -> None:
    reader = await new_client(admin_a, ["customer:read"], name="BI dashboard")
    api = GQL(app, await access_token(app, reader))
    assert (await api(CUSTOMERS))["customers"]["totalCount"] >= 0
    response = await api.post(CREATE_CUSTOMER)
    assert error_code(response.json()) == "FORBIDDEN"
    # Nothing outside the scopes, however high the ceiling: contacts, members, clients.
    for query in ("{ contacts(first: 1) { totalCount } }", "{ members { role } }", LIST):
        body = (await api.post(query, {"r": False})).json()
        assert error_code(body) == "FORBIDDEN", body

    # A token may ask for less than the client holds, and then holds only that.
    writer = await new_client(admin_a, ["customer:read", "customer:create"], name="Importer")
    narrow = await token_request(app, writer["clientId"], writer["secret"], scope="customer:read")
    assert narrow.json()["scope"] == "customer:read"
    narrowed = GQL(app, narrow.json()["access_token"])
    assert error_code((await narrowed.post(CREATE_CUSTOMER)).json()) == "FORBIDDEN"
    assert (await narrowed(CUSTOMERS))["customers"]["totalCount"] >= 0


async def test_client_creates_customer_without_naming_an_owner(app: Any, admin_a: GQL) -> None:
    client = await new_client(admin_a, ["customer:read", "customer:create"], name="Web form")
    created = (await GQL(app, await access_token(app, client))(CREATE_CUSTOMER))["createCustomer"]
    assert created["errors"] == [] and created["customer"]["id"]
    # An integration's records go to the shared pool rather than to the client's own id.
    owner = await admin_a(
        "query($id: ID!) { customer(id: $id) { owner { id } } }", {"id": created["customer"]["id"]}
    )
    assert owner["customer"]["owner"] is None


async def test_client_never_manages_people_settings_or_clients(app: Any, admin_a: GQL) -> None:
    client = await new_client(admin_a, READ)
    api = GQL(app, await access_token(app, client))
    body = (await api.post(CREATE, {"i": {"name": "child", "scopes": READ}})).json()
    assert error_code(body) == "FORBIDDEN"
    for scope in ("users:manage", "settings:manage", "api_clients:manage"):
        result = (await admin_a(CREATE, {"i": {"name": "too much", "scopes": [scope]}}))[
            "createApiClient"
        ]
        assert result["clientSecret"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [
            ("input.scopes.0", "FORBIDDEN")
        ]


async def test_create_validates_name_and_scopes(admin_a: GQL) -> None:
    before = len((await admin_a(LIST, {"r": True}))["apiClients"])
    result = (
        await admin_a(CREATE, {"i": {"name": "  ", "scopes": ["customer:read", "customer:fly"]}})
    )["createApiClient"]
    assert result["apiClient"] is None and result["clientSecret"] is None
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("input.name", "REQUIRED"),
        ("input.scopes.1", "INVALID"),
    }
    empty = (await admin_a(CREATE, {"i": {"name": "x", "scopes": []}}))["createApiClient"]
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("input.scopes", "REQUIRED")]
    assert len((await admin_a(LIST, {"r": True}))["apiClients"]) == before


# -- the token endpoint's errors (RFC 6749 §5.2) -----------------------------------------------------


async def test_wrong_secret_and_unknown_client_get_the_same_answer(app: Any, admin_a: GQL) -> None:
    client = await new_client(admin_a, READ)
    wrong_secret = "crmsec_" + secrets.token_urlsafe(32)
    unknown_id = "crm_" + secrets.token_hex(12)
    for method, status in (("basic", 401), ("post", 400)):
        wrong = await token_request(app, client["clientId"], wrong_secret, method=method)
        unknown = await token_request(app, unknown_id, client["secret"], method=method)
        for response in (wrong, unknown):
            assert response.status_code == status
            assert response.json() == {
                "error": "invalid_client",
                "error_description": "client authentication failed",
            }
            assert response.headers["cache-control"] == "no-store"
        assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")
        if method == "basic":
            assert wrong.headers["www-authenticate"].startswith("Basic realm=")
        else:
            assert "www-authenticate" not in wrong.headers
    nothing = await token_request(app, None, None)
    assert nothing.status_code == 401 and nothing.json()["error"] == "invalid_client"
    bearer = await GQL(app).client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": "Bearer abc"},
    )
    assert bearer.status_code == 401 and bearer.json()["error"] == "invalid_client"


async def test_unsupported_grant_and_malformed_requests(app: Any, admin_a: GQL) -> None:
    client = await new_client(admin_a, READ)
    cid, secret = client["clientId"], client["secret"]
    for grant in ("password", "refresh_token", "authorization_code"):
        response = await token_request(app, cid, secret, grant_type=grant)
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"
    missing = await token_request(app, cid, secret, grant_type=None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    both = await token_request(app, cid, secret, extra={"client_secret": secret})
    assert both.json()["error"] == "invalid_request"
    http = GQL(app).client
    as_json = await http.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        headers={"authorization": basic(cid, secret)},
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    repeated = await http.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "authorization": basic(cid, secret),
        },
    )
    assert repeated.json()["error"] == "invalid_request"
    in_url = await http.post(
        f"/oauth/token?client_id={cid}&client_secret={secret}",
        data={"grant_type": "client_credentials"},
    )
    assert in_url.json()["error"] == "invalid_request"
    assert (await http.get("/oauth/token")).status_code == 405


async def test_scope_beyond_the_grant_is_invalid_scope(app: Any, admin_a: GQL) -> None:
    client = await new_client(admin_a, READ)
    for scope in ("customer:delete", "customer:read customer:delete", "no:such", "users:manage"):
        response = await token_request(app, client["clientId"], client["secret"], scope=scope)
        assert response.status_code == 400, scope
        assert response.json()["error"] == "invalid_scope"
        assert "access_token" not in response.json()
    # An empty scope is an absent one (RFC 6749 §3.1): every granted scope.
    fine = await token_request(app, client["clientId"], client["secret"], scope="")
    assert fine.json()["scope"] == "contact:read customer:read"


# -- rotation and revocation ----------------------------------------------------------------------


async def test_rotation_keeps_the_old_secret_during_the_overlap_only(
    app: Any, admin_a: GQL
) -> None:
    client = await new_client(admin_a, READ)
    old = client["secret"]
    rotated = (await admin_a(ROTATE, {"id": client["id"], "h": 2 / 3600}))["rotateApiClientSecret"]
    assert rotated["errors"] == []
    new = rotated["clientSecret"]
    assert new and new != old
    until = datetime.datetime.fromisoformat(rotated["apiClient"]["previousSecretExpiresAt"])

    for secret in (new, old):
        response = await token_request(app, client["clientId"], secret)
        assert response.status_code == 200, response.text
    listed = (await admin_a(LIST, {"r": False}))["apiClients"]
    assert new not in str(listed) and old not in str(listed)

    wait = (until - datetime.datetime.now(datetime.UTC)).total_seconds() + 0.3
    await asyncio.sleep(max(wait, 0))
    expired = await token_request(app, client["clientId"], old)
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_client"
    assert (await token_request(app, client["clientId"], new)).status_code == 200

    # overlapHours 0 cuts the replaced secret off at once; a second rotation drops the older one.
    cut = (await admin_a(ROTATE, {"id": client["id"], "h": 0}))["rotateApiClientSecret"]
    assert cut["apiClient"]["previousSecretExpiresAt"] is None
    assert (await token_request(app, client["clientId"], new)).status_code == 401
    first = (await admin_a(ROTATE_DEFAULT, {"id": client["id"]}))["rotateApiClientSecret"]
    second = (await admin_a(ROTATE_DEFAULT, {"id": client["id"]}))["rotateApiClientSecret"]
    assert (await token_request(app, client["clientId"], cut["clientSecret"])).status_code == 401
    for secret in (first["clientSecret"], second["clientSecret"]):
        assert (await token_request(app, client["clientId"], secret)).status_code == 200

    too_long = (await admin_a(ROTATE, {"id": client["id"], "h": 24 * 8}))["rotateApiClientSecret"]
    assert too_long["clientSecret"] is None
    assert [(e["field"], e["code"]) for e in too_long["errors"]] == [("overlapHours", "INVALID")]


async def test_revocation_ends_tokens_on_their_next_request(app: Any, admin_a: GQL) -> None:
    client = await new_client(admin_a, READ)
    api = GQL(app, await access_token(app, client))
    assert (await api(CUSTOMERS))["customers"]["totalCount"] >= 0

    revoked = (await admin_a(REVOKE, {"id": client["id"]}))["revokeApiClient"]
    assert revoked["errors"] == [] and revoked["apiClient"]["revokedAt"]
    response = await api.post(CUSTOMERS)
    assert response.status_code == 401 and error_code(response.json()) == "UNAUTHENTICATED"
    again = await token_request(app, client["clientId"], client["secret"])
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"

    active = [c["id"] for c in (await admin_a(LIST, {"r": False}))["apiClients"]]
    every = [c["id"] for c in (await admin_a(LIST, {"r": True}))["apiClients"]]
    assert client["id"] not in active and client["id"] in every
    rotate = (await admin_a(ROTATE_DEFAULT, {"id": client["id"]}))["rotateApiClientSecret"]
    assert rotate["clientSecret"] is None and rotate["errors"][0]["code"] == "INVALID"
    twice = (await admin_a(REVOKE, {"id": client["id"]}))["revokeApiClient"]
    assert (
        twice["errors"] == []
        and twice["apiClient"]["revokedAt"] == revoked["apiClient"]["revokedAt"]
    )


async def test_suspended_tenant_clients_are_refused(app: Any, db: Any, gql_as: Any) -> None:
    t = await make_tenant(db, "clientsusp")
    admin = await gql_as(t.admin_email)
    client = await new_client(admin, READ)
    api = GQL(app, await access_token(app, client))
    await tenants.set_status(db, "clientsusp", TenantStatus.suspended)
    try:
        refused = await token_request(app, client["clientId"], client["secret"])
        assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
        response = await api.post(CUSTOMERS)
        assert response.status_code == 403 and error_code(response.json()) == "FORBIDDEN"
        wrong = await token_request(app, client["clientId"], "crmsec_wrong")
        assert wrong.json()["error"] == "invalid_client"  # proof first, then the reason
    finally:
        await tenants.set_status(db, "clientsusp", TenantStatus.active)
    assert (await api(CUSTOMERS))["customers"]["totalCount"] == 0


async def test_last_used_at_is_written_at_most_once_a_minute(
    app: Any, db: Any, admin_a: GQL
) -> None:
    client = await new_client(admin_a, READ)

    async def row() -> ApiClient:
        async with db.core_session() as session:
            stmt = select(ApiClient).where(ApiClient.client_id == client["clientId"])
            return (await session.execute(stmt)).scalar_one()

    assert (await row()).last_used_at is None
    token = await access_token(app, client)
    first = await row()
    assert first.last_used_at is not None
    await GQL(app, token)(CUSTOMERS)
    await access_token(app, client)
    assert (await row()).last_used_at == first.last_used_at
    async with db.core_transaction() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.id == first.id)
            .values(
                last_used_at=first.last_used_at - datetime.timedelta(minutes=2),
                updated_at=ApiClient.updated_at,
            )
        )
    await GQL(app, token)(CUSTOMERS)  # use through the gateway counts too
    later = await row()
    assert later.last_used_at is not None and later.last_used_at > first.last_used_at
    assert later.updated_at == first.updated_at  # use is not a change of the client


async def test_secret_stays_out_of_logs_and_audit(
    app: Any, db: Any, admin_a: GQL, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await new_client(admin_a, READ)
    rotated = (await admin_a(ROTATE_DEFAULT, {"id": client["id"]}))["rotateApiClientSecret"]
    for secret in (client["secret"], rotated["clientSecret"]):
        await access_token(app, {**client, "secret": secret})
        await token_request(app, client["clientId"], secret + "x")
    async with db.core_session() as session:
        events = (
            (
                await session.execute(
                    select(PlatformAuditEvent).where(
                        PlatformAuditEvent.target == client["clientId"]
                    )
                )
            )
            .scalars()
            .all()
        )
    assert {e.action for e in events} == {"api_client.create", "api_client.rotate"}
    for secret in (client["secret"], rotated["clientSecret"]):
        assert secret not in caplog.text
        assert all(secret not in str(e.detail) for e in events)


# -- who may manage, and tenant isolation ---------------------------------------------------------


async def test_sales_and_viewer_cannot_manage_clients(gql_as: Any, tenant_a: Any) -> None:
    for email in (tenant_a.sales_email, tenant_a.viewer_email):
        gql = await gql_as(email)
        for doc, variables in (
            (LIST, {"r": False}),
            (CREATE, {"i": {"name": "mine", "scopes": ["customer:read"]}}),
        ):
            body = (await gql.post(doc, variables)).json()
            assert error_code(body) == "FORBIDDEN", (email, body)


async def test_tenants_cannot_see_or_touch_each_others_clients(
    app: Any, db: Any, settings: Any, admin_a: GQL, admin_b: GQL, tenant_b: Any
) -> None:
    mine = await new_client(admin_a, [*READ, "personal_data:read"], name="Twin client")
    theirs = await new_client(admin_b, READ, name="Twin client")

    assert theirs["id"] not in str(await admin_a(LIST, {"r": True}))
    for doc, name in ((ROTATE_DEFAULT, "rotateApiClientSecret"), (REVOKE, "revokeApiClient")):
        result = (await admin_a(doc, {"id": theirs["id"]}))[name]
        assert result["apiClient"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [("id", "NOT_FOUND")]
    # B's client is untouched: its secret still works, it is not revoked.
    assert (await token_request(app, theirs["clientId"], theirs["secret"])).status_code == 200
    assert theirs["id"] in str(await admin_b(LIST, {"r": False}))

    # A's client reads A's data only.
    marker = f"接口孪生{secrets.token_hex(3)}"
    own = await create_customer(admin_a, name=marker)
    foreign = await create_customer(admin_b, name=marker)
    api = GQL(app, await access_token(app, mine))
    found = await api(
        "query($s: String!) { customers(first: 10, search: $s) { edges { node { id } } } }",
        {"s": marker},
    )
    assert [e["node"]["id"] for e in found["customers"]["edges"]] == [own["id"]]
    get = "query($id: ID!) { customer(id: $id) { id } }"
    assert (await api(get, {"id": foreign["id"]}))["customer"] is None

    # Even a validly signed token naming B's tenant gets nothing: the row says the client is A's.
    forged = await token_service(db, settings).issue_client(
        client_record_id=from_global_id(mine["id"])[1],
        client_id=mine["clientId"],
        tenant_id=tenant_b.ref.id,
        role="admin",
        scopes=READ,
    )
    response = await GQL(app, forged.token).post(CUSTOMERS)
    assert response.status_code == 401 and error_code(response.json()) == "UNAUTHENTICATED"
