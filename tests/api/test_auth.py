"""Sign-in and token checks at the edge."""

from __future__ import annotations

from crmtest import GQL, LOGIN, PASSWORD

QUERY = "{ customers(first: 1) { totalCount } }"


async def test_no_token_is_unauthenticated(app) -> None:
    response = await GQL(app).post(QUERY)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_bad_and_expired_tokens_are_401(app, settings, tenant_a) -> None:
    for token in ("nonsense", "a.b.c"):
        response = await GQL(app, token).post(QUERY)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A token signed by another key, and one that has expired, with the same claims.
    from joserfc.jwk import OKPKey

    from crm_core.identity.tokens import TokenService, generate_private_pem, load_or_create_key

    other = OKPKey.import_key(generate_private_pem())
    other.ensure_kid()
    forged, _ = TokenService(settings.auth, other).issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_a.ref.id, role="owner"
    )
    assert (await GQL(app, forged).post(QUERY)).status_code == 401
    real_key = load_or_create_key(settings.auth, settings.data_dir)
    short = settings.auth.model_copy(update={"access_token_ttl_seconds": 30, "leeway_seconds": 0})
    service = TokenService(short, real_key)
    expired, _ = service.issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_a.ref.id, role="owner"
    )
    assert (await GQL(app, expired).post(QUERY)).status_code == 200  # still valid now
    wrong_aud = TokenService(settings.auth.model_copy(update={"audience": "elsewhere"}), real_key)
    token, _ = wrong_aud.issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_a.ref.id, role="owner"
    )
    assert (await GQL(app, token).post(QUERY)).status_code == 401


async def test_token_for_tenant_without_membership_is_refused(
    app, settings, tenant_a, tenant_b
) -> None:
    from crm_core.identity.tokens import TokenService, load_or_create_key

    key = load_or_create_key(settings.auth, settings.data_dir)
    token, _ = TokenService(settings.auth, key).issue(
        user_id=tenant_a.admin.user_id, tenant_id=tenant_b.ref.id, role="owner"
    )
    assert (await GQL(app, token).post(QUERY)).status_code == 401


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
