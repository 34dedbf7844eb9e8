"""Sign-in and token checks at the edge."""

from __future__ import annotations

from crmtest import GQL, LOGIN, PASSWORD, token_service

QUERY = "{ customers(first: 1) { totalCount } }"


async def test_no_token_is_unauthenticated(app) -> None:
    response = await GQL(app).post(QUERY)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_bad_and_expired_tokens_are_401(app, settings, db, tenant_a) -> None:
    for token in ("nonsense", "a.b.c"):
        response = await GQL(app, token).post(QUERY)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A token signed by another key, and one that has expired, with the same claims.
    import json

    from joserfc import jws, jwt
    from joserfc.jwk import OKPKey

    real = await token_service(db, settings).issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_a.ref.id, role="owner"
    )
    # The same header and claims, signed by another key.
    other = OKPKey.generate_key("Ed25519")
    signed = jws.extract_compact(real.token.encode())
    forged = jwt.encode(signed.headers(), json.loads(signed.payload), other, algorithms=["Ed25519"])
    assert (await GQL(app, forged).post(QUERY)).status_code == 401
    short = token_service(db, settings, access_token_ttl_seconds=30, leeway_seconds=0)
    expired = await short.issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_a.ref.id, role="owner"
    )
    assert (await GQL(app, expired.token).post(QUERY)).status_code == 200  # still valid now
    wrong_aud = token_service(db, settings, audience="elsewhere")
    token = await wrong_aud.issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_a.ref.id, role="owner"
    )
    assert (await GQL(app, token.token).post(QUERY)).status_code == 401


async def test_token_for_tenant_without_membership_is_refused(
    app, settings, db, tenant_a, tenant_b
) -> None:
    token = await token_service(db, settings).issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_b.ref.id, role="owner"
    )
    assert (await GQL(app, token.token).post(QUERY)).status_code == 401


async def test_wrong_password_and_unknown_user_answer_the_same(app, tenant_a) -> None:
    anon = GQL(app)
    wrong = await anon(
        LOGIN,
        {"i": {"email": tenant_a.admin_email, "password": "wrong password!!", "tenant": None}},
    )
    unknown = await anon(
        LOGIN, {"i": {"email": "nobody@alpha.cn", "password": PASSWORD, "tenant": None}}
    )
    assert wrong["login"]["errors"] == unknown["login"]["errors"]
    assert wrong["login"]["errors"][0]["code"] == "UNAUTHENTICATED"


async def test_login_returns_working_token(app, tenant_a) -> None:
    data = await GQL(app)(
        LOGIN, {"i": {"email": tenant_a.sales_email, "password": PASSWORD, "tenant": "alpha"}}
    )
    session = data["login"]["session"]
    assert session["role"] == "SALES"
    viewer = await GQL(app, session["accessToken"])("{ viewer { tenantSlug role user { name } } }")
    assert viewer["viewer"] == {"tenantSlug": "alpha", "role": "SALES", "user": {"name": "李娜"}}


async def test_role_without_permission_is_forbidden(gql_as, tenant_a) -> None:
    viewer = await gql_as(tenant_a.viewer_email)
    response = await viewer.post(
        'mutation { createCustomer(input: {name: "x", kind: COMPANY}) { errors { code } } }'
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await viewer(QUERY))["customers"]["totalCount"] >= 0


async def test_jwks_publishes_the_public_key_only(app) -> None:
    response = await GQL(app).client.get("/.well-known/jwks.json")
    keys = response.json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "OKP" and "d" not in keys[0] and keys[0]["kid"]
