"""Single sign-on per tenant, end to end against real OpenID Connect providers on loopback.

Our side is driven with httpx over the ASGI app as a browser would (https://crm.test, cookies kept
by the client); the providers are real HTTP servers (``oidc_provider.py``). Redirects are followed
by hand so each step can be inspected or tampered with.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from crmtest import GQL
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from crm_core.identity.models import SsoProvider, UserIdentity
from crm_core.security.crypto import load_master_key
from crm_core.tenants.models import Membership, User


def _load_provider_module() -> Any:
    # Test modules are imported with --import-mode=importlib: a sibling is loaded by path.
    name = "crm_tests_oidc_provider"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("oidc_provider.py")
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


op = _load_provider_module()
Account = op.Account

BASE = "https://crm.test"
CALLBACK = f"{BASE}/auth/sso/callback"
SECRET_A = "alpha-idp-secret-Zq81-must-never-leak"
SECRET_B = "bravo-idp-secret-Kx72-must-never-leak"
SECRET_SHARED = "alpha-on-bravo-secret-Pp19-never-leak"
SECRET_C = "scratch-idp-secret-Wm55-never-leak"

FIELDS = "id name issuer clientId allowedDomains enabled loginPath"
REGISTER = f"mutation($i: RegisterSsoProviderInput!) {{ registerSsoProvider(input: $i) {{ ssoProvider {{ {FIELDS} }} errors {{ field code message }} }} }}"
UPDATE = f"mutation($id: ID!, $i: UpdateSsoProviderInput!) {{ updateSsoProvider(id: $id, input: $i) {{ ssoProvider {{ {FIELDS} }} errors {{ field code message }} }} }}"
DISABLE = f"mutation($id: ID!) {{ disableSsoProvider(id: $id) {{ ssoProvider {{ {FIELDS} }} errors {{ field code message }} }} }}"
LIST = f"{{ ssoProviders {{ {FIELDS} }} }}"
VIEWER = "{ viewer { tenantSlug role user { id name email } } }"


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def idp_a() -> Iterator[Any]:
    provider = op.OidcProvider("alpha-idp").start()
    provider.add_client("crm-alpha", SECRET_A, CALLBACK)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def idp_b() -> Iterator[Any]:
    provider = op.OidcProvider("bravo-idp").start()
    provider.add_client("crm-bravo", SECRET_B, CALLBACK)
    # Tenant alpha registers the same issuer too, with its own client.
    provider.add_client("crm-alpha-on-bravo", SECRET_SHARED, CALLBACK)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def idp_c() -> Iterator[Any]:
    """A scratch provider of tenant alpha, for discovery misbehaviour and disabling."""
    provider = op.OidcProvider("scratch-idp").start()
    provider.add_client("crm-scratch", SECRET_C, CALLBACK)
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def _honest(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in ("idp_a", "idp_b", "idp_c"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()


@pytest.fixture(scope="module")
async def admins(gql_as, tenant_a, tenant_b) -> dict[str, GQL]:
    return {
        "alpha": await gql_as(tenant_a.admin_email, "alpha"),
        "bravo": await gql_as(tenant_b.admin_email, "bravo"),
    }


async def _register(gql: GQL, **fields: Any) -> dict[str, Any]:
    data = await gql(REGISTER, {"i": fields})
    assert data["registerSsoProvider"]["errors"] == [], data
    return data["registerSsoProvider"]["ssoProvider"]


@pytest.fixture(scope="module")
async def reg(admins, idp_a, idp_b, idp_c) -> dict[str, dict[str, Any]]:
    return {
        "a": await _register(
            admins["alpha"],
            name="Alpha IdP",
            issuer=idp_a.issuer,
            clientId="crm-alpha",
            clientSecret=SECRET_A,
            allowedDomains=["Alpha.CN"],
        ),
        # Bravo's admin allows alpha.cn too: its IdP must still not reach alpha's users.
        "b": await _register(
            admins["bravo"],
            name="Bravo IdP",
            issuer=idp_b.issuer,
            clientId="crm-bravo",
            clientSecret=SECRET_B,
            allowedDomains=["bravo.cn", "alpha.cn"],
        ),
        "a_on_b": await _register(
            admins["alpha"],
            name="Bravo's IdP, registered by alpha",
            issuer=idp_b.issuer,
            clientId="crm-alpha-on-bravo",
            clientSecret=SECRET_SHARED,
            allowedDomains=["bravo.cn", "alpha.cn"],
        ),
        "c": await _register(
            admins["alpha"],
            name="Scratch IdP",
            issuer=idp_c.issuer,
            clientId="crm-scratch",
            clientSecret=SECRET_C,
            allowedDomains=["alpha.cn"],
        ),
    }


@pytest.fixture
async def browser(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
async def net() -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP to the providers (what the user's browser does at the provider)."""
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


# -- helpers --------------------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _to_provider(browser: httpx.AsyncClient, login_path: str) -> str:
    response = await browser.get(login_path)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def _through_provider(net: httpx.AsyncClient, authorize_url: str) -> str:
    response = await net.get(authorize_url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK), location
    return location


async def _sign_in(browser: httpx.AsyncClient, net: httpx.AsyncClient, reg: dict) -> httpx.Response:
    callback = await _through_provider(net, await _to_provider(browser, reg["loginPath"]))
    return await browser.get(callback)


def _session(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenType"] == "Bearer" and body["accessToken"] and body["refreshToken"]
    assert response.headers["cache-control"] == "no-store"
    return body


def _refused(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert "accessToken" not in body


async def _viewer(app, token: str) -> dict[str, Any]:
    return (await GQL(app, token)(VIEWER))["viewer"]


async def _count(db, stmt) -> int:
    async with db.core_session() as session:
        return int((await session.execute(stmt)).scalar_one())


def _pid(reg: dict) -> uuid.UUID:
    return uuid.UUID(reg["loginPath"].split("/")[4])


# -- administration -------------------------------------------------------------------------------


async def test_admin_api_keeps_the_secret_write_only(
    app, db, settings, admins, reg, gql_as, tenant_a
):
    listed = await admins["alpha"].post(LIST)
    assert listed.status_code == 200
    names = {p["name"] for p in listed.json()["data"]["ssoProviders"]}
    assert names == {"Alpha IdP", "Bravo's IdP, registered by alpha", "Scratch IdP"}
    assert reg["a"]["allowedDomains"] == ["alpha.cn"]  # normalized
    assert reg["a"]["loginPath"] == f"/auth/sso/alpha/{_pid(reg['a'])}/login"
    updated = await admins["alpha"].post(
        UPDATE, {"id": reg["a"]["id"], "i": {"clientSecret": SECRET_A}}
    )
    for text in (listed.text, updated.text, str(reg)):
        for secret in (SECRET_A, SECRET_B, SECRET_SHARED, SECRET_C):
            assert secret not in text
    # No field of the type can return it, whatever a client asks for.
    probe = await admins["alpha"].post("{ ssoProviders { clientSecret } }")
    assert probe.json()["errors"] and SECRET_A not in probe.text
    # Stored encrypted, bound to the provider's id.
    async with db.core_session() as session:
        row = await session.get(SsoProvider, _pid(reg["a"]))
    assert SECRET_A.encode() not in row.client_secret_encrypted
    key = load_master_key(settings)
    assert key.decrypt(row.client_secret_encrypted, purpose=f"sso-client-secret:{row.id}") == (
        SECRET_A.encode()
    )
    # Only settings:manage; another tenant's provider is "not found".
    sales = await gql_as(tenant_a.sales_email, "alpha")
    forbidden = await sales.post(LIST)
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    foreign = await admins["bravo"](DISABLE, {"id": reg["a"]["id"]})
    assert foreign["disableSsoProvider"]["errors"][0]["code"] == "NOT_FOUND"


async def test_registration_validates_issuer_domains_and_duplicates(admins, reg, idp_a):
    bad = await admins["alpha"](
        REGISTER,
        {
            "i": {
                "name": "Bad",
                "issuer": "http://idp.example.com",
                "clientId": "x",
                "clientSecret": "y",
                "allowedDomains": ["com", "*.alpha.cn", "ok.cn"],
            }
        },
    )
    errors = {(e["field"], e["code"]) for e in bad["registerSsoProvider"]["errors"]}
    assert errors == {
        ("input.issuer", "INVALID"),
        ("input.allowedDomains.0", "INVALID"),
        ("input.allowedDomains.1", "INVALID"),
    }
    dup = await admins["alpha"](
        REGISTER,
        {
            "i": {
                "name": "Again",
                "issuer": idp_a.issuer,
                "clientId": "x",
                "clientSecret": "y",
                "allowedDomains": ["alpha.cn"],
            }
        },
    )
    assert dup["registerSsoProvider"]["errors"][0]["code"] == "DUPLICATE"


# -- the happy path -------------------------------------------------------------------------------


async def test_first_login_links_verified_email_then_matches_on_subject(
    app, db, browser, net, idp_a, reg, tenant_a
):
    idp_a.sign_in_as(Account("alpha-sub-lina", tenant_a.sales_email, True, "Li Na"))
    authorize = await _to_provider(browser, reg["a"]["loginPath"])
    params = _query(authorize)
    assert authorize.startswith(f"{idp_a.issuer}/authorize?")
    assert params["client_id"] == "crm-alpha" and params["redirect_uri"] == CALLBACK
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 20
    assert "openid" in params["scope"].split()
    cookie = next(c for c in browser.cookies.jar if c.name == "crm_sso")
    assert cookie.secure and cookie.path == "/auth/sso"

    first = _session(await browser.get(await _through_provider(net, authorize)))
    assert first["tenantSlug"] == "alpha" and first["role"] == "sales"
    me = await _viewer(app, first["accessToken"])
    assert me["tenantSlug"] == "alpha" and me["role"] == "SALES"
    assert me["user"]["email"] == tenant_a.sales_email

    # The provider changes the person's e-mail (even to another domain): the subject decides.
    idp_a.sign_in_as(Account("alpha-sub-lina", "lina@elsewhere.example", False, "Li Na"))
    second = _session(await _sign_in(browser, net, reg["a"]))
    again = await _viewer(app, second["accessToken"])
    assert again["user"]["id"] == me["user"]["id"]
    assert (
        await _count(db, select(func.count()).where(UserIdentity.subject == "alpha-sub-lina"))
    ) == 1


async def test_unknown_verified_user_is_created_as_viewer(app, db, browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-new", "new.hire@alpha.cn", True, "New Hire"))
    body = _session(await _sign_in(browser, net, reg["a"]))
    assert body["role"] == "viewer"
    me = await _viewer(app, body["accessToken"])
    assert me["user"]["name"] == "New Hire" and me["user"]["email"] == "new.hire@alpha.cn"


# -- refusals of the account rule -----------------------------------------------------------------


async def test_unverified_email_is_refused(db, browser, net, idp_a, reg, tenant_a):
    for verified in (False, "true", None):
        idp_a.sign_in_as(
            Account(f"alpha-sub-unverified-{verified}", tenant_a.viewer_email, verified)
        )
        _refused(await _sign_in(browser, net, reg["a"]), 403, "account_refused")
    assert (
        await _count(
            db, select(func.count()).where(UserIdentity.subject.like("alpha-sub-unverified%"))
        )
    ) == 0


async def test_disallowed_domain_is_refused(db, browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-evil", "mallory@evil.example", True))
    _refused(await _sign_in(browser, net, reg["a"]), 403, "account_refused")
    idp_a.sign_in_as(Account("alpha-sub-sub", "x@sub.alpha.cn", True))  # exact domains only
    _refused(await _sign_in(browser, net, reg["a"]), 403, "account_refused")
    assert (
        await _count(
            db,
            select(func.count())
            .select_from(User)
            .where(User.email.in_(["mallory@evil.example", "x@sub.alpha.cn"])),
        )
    ) == 0


# -- state ------------------------------------------------------------------------------------------


async def test_wrong_state_and_foreign_browser_are_refused(app, browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-state", "state.user@alpha.cn", True))
    callback = await _through_provider(net, await _to_provider(browser, reg["a"]["loginPath"]))
    params = _query(callback)
    forged = f"{CALLBACK}?{urlencode({**params, 'state': 'forged-' + params['state'][7:]})}"
    _refused(await browser.get(forged), 400, "invalid_state")
    _refused(await browser.get(f"{CALLBACK}?code={params['code']}"), 400, "invalid_state")
    # Right state, other browser (no cookie): the login-CSRF case.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as other:
        _refused(await other.get(callback), 400, "invalid_state")
    # None of that spent the real flow.
    _session(await browser.get(callback))


async def test_replayed_state_is_refused(browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-replay", "replay.user@alpha.cn", True))
    callback = await _through_provider(net, await _to_provider(browser, reg["a"]["loginPath"]))
    old_cookie = browser.cookies.get("crm_sso", domain="crm.test", path="/auth/sso")
    _session(await browser.get(callback))
    _refused(await browser.get(callback), 400, "invalid_state")
    # Even with a copy of the cookie from before the callback: the state is spent on the server.
    browser.cookies.set("crm_sso", old_cookie, domain="crm.test", path="/auth/sso")
    _refused(await browser.get(callback), 400, "invalid_state")


# -- the id token -----------------------------------------------------------------------------------


async def test_wrong_nonce_is_refused(db, browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-nonce", "nonce.user@alpha.cn", True))
    idp_a.misbehave.nonce = "a-nonce-from-another-flow"
    response = await _sign_in(browser, net, reg["a"])
    _refused(response, 401, "invalid_id_token")
    assert "nonce" in response.json()["message"]
    assert (
        await _count(db, select(func.count()).where(UserIdentity.subject == "alpha-sub-nonce"))
    ) == 0


async def test_id_token_from_another_tenants_issuer_is_refused(browser, net, idp_a, idp_b, reg):
    idp_a.sign_in_as(Account("alpha-sub-iss", "iss.user@alpha.cn", True))
    # Tenant bravo's issuer in the claim, signed with alpha's provider key.
    idp_a.misbehave.id_token_issuer = idp_b.issuer
    response = await _sign_in(browser, net, reg["a"])
    _refused(response, 401, "invalid_id_token")
    assert "iss" in response.json()["message"]
    # Bravo's issuer and bravo's key (under the kid alpha's JWKS publishes): the signature fails.
    impostor = RSAKey.import_key(idp_b.key.as_dict(private=True), {"kid": idp_a.key.kid})
    idp_a.misbehave.sign_with = impostor
    _refused(await _sign_in(browser, net, reg["a"]), 401, "invalid_id_token")


async def test_id_token_for_another_audience_is_refused(browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-aud", "aud.user@alpha.cn", True))
    # authlib alone accepts this one: with an `azp` naming us it checks no audience.
    idp_a.misbehave.id_token_audience = ["crm-bravo"]
    idp_a.misbehave.azp = "crm-alpha"
    _refused(await _sign_in(browser, net, reg["a"]), 401, "invalid_id_token")
    # Meant for us *and* someone else: we trust no other audience.
    idp_a.misbehave.id_token_audience = ["crm-alpha", "crm-bravo"]
    _refused(await _sign_in(browser, net, reg["a"]), 401, "invalid_id_token")


async def test_expired_id_token_is_refused_with_a_small_leeway(settings, browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-exp", "exp.user@alpha.cn", True))
    # 60 s expired: inside authlib's default 120 s leeway, outside ours.
    assert settings.sso.id_token_leeway_seconds < 60
    idp_a.misbehave.exp_offset = -60
    response = await _sign_in(browser, net, reg["a"])
    _refused(response, 401, "invalid_id_token")
    assert "expired" in response.json()["message"]


# -- the code and PKCE --------------------------------------------------------------------------


async def test_replayed_code_is_refused(browser, net, idp_a, reg):
    idp_a.sign_in_as(Account("alpha-sub-code", "code.user@alpha.cn", True))
    used = await _through_provider(net, await _to_provider(browser, reg["a"]["loginPath"]))
    _session(await browser.get(used))
    # A new flow in the same browser, fed the code that was already exchanged.
    fresh = _query(await _through_provider(net, await _to_provider(browser, reg["a"]["loginPath"])))
    replay = f"{CALLBACK}?{urlencode({'code': _query(used)['code'], 'state': fresh['state']})}"
    response = await browser.get(replay)
    _refused(response, 401, "sso_failed")
    assert idp_a.token_errors == ["invalid_grant"]


async def test_pkce_is_required_by_the_provider_and_never_omitted_by_us(
    db, browser, net, idp_a, reg
):
    idp_a.sign_in_as(Account("alpha-sub-pkce", "pkce.user@alpha.cn", True))
    base = {
        "response_type": "code",
        "client_id": "crm-alpha",
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "attacker-state",
        "nonce": "attacker-nonce-1",
    }
    # The provider is configured to require PKCE: an authorization request without it fails.
    without = await net.get(idp_a.authorize_url(**base))
    assert _query(without.headers["location"])["error"] == "invalid_request"
    assert "code" not in _query(without.headers["location"])

    # A code obtained with someone else's challenge (an attacker's own authorization request)…
    verifier = "attacker-verifier-" + "x" * 40
    stolen = await net.get(
        idp_a.authorize_url(
            **{**base, "nonce": "attacker-nonce-2"},
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
    )
    code = _query(stolen.headers["location"])["code"]
    # …injected into the victim's flow: our client sends the verifier it stored for that flow,
    # not the one matching the code, and the provider refuses.
    victim_state = _query(await _to_provider(browser, reg["a"]["loginPath"]))["state"]
    response = await browser.get(f"{CALLBACK}?{urlencode({'code': code, 'state': victim_state})}")
    _refused(response, 401, "sso_failed")
    assert idp_a.token_errors == ["invalid_grant"]
    # Without any code_verifier the token endpoint refuses too (the attacker's own code, even
    # with the client's credentials).
    code2 = _query(
        (
            await net.get(
                idp_a.authorize_url(
                    **{**base, "nonce": "attacker-nonce-3"},
                    code_challenge=create_s256_code_challenge(verifier),
                    code_challenge_method="S256",
                )
            )
        ).headers["location"]
    )["code"]
    token = await net.post(
        f"{idp_a.issuer}/token",
        data={"grant_type": "authorization_code", "code": code2, "redirect_uri": CALLBACK},
        auth=("crm-alpha", SECRET_A),
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_request"
    assert (
        await _count(db, select(func.count()).where(UserIdentity.subject == "alpha-sub-pkce"))
    ) == 0


async def _bust(admins, reg: dict, n: int) -> None:
    """Change the provider so the gateway rebuilds its client and re-reads discovery."""
    data = await admins["alpha"](UPDATE, {"id": reg["id"], "i": {"name": f"Scratch IdP {n}"}})
    assert data["updateSsoProvider"]["errors"] == []


async def test_discovery_must_offer_s256_and_name_the_issuer(admins, browser, net, idp_c, reg):
    idp_c.sign_in_as(Account("scratch-sub-1", "scratch.user@alpha.cn", True))
    idp_c.misbehave.challenge_methods = ["plain"]
    await _bust(admins, reg["c"], 1)
    response = await browser.get(reg["c"]["loginPath"])
    _refused(response, 400, "provider_misconfigured")
    assert "S256" in response.json()["message"]

    idp_c.reset()
    idp_c.misbehave.discovery_issuer = "https://someone-else.example"
    await _bust(admins, reg["c"], 2)
    _refused(await browser.get(reg["c"]["loginPath"]), 400, "provider_misconfigured")

    # A discovery document cannot switch our PKCE off through authlib's client keyword arguments.
    idp_c.reset()
    idp_c.misbehave.discovery_extra = {"code_challenge_method": None, "scope": "email"}
    await _bust(admins, reg["c"], 3)
    authorize = await _to_provider(browser, reg["c"]["loginPath"])
    assert _query(authorize)["code_challenge_method"] == "S256"
    assert "openid" in _query(authorize)["scope"].split()
    _session(await browser.get(await _through_provider(net, authorize)))


async def test_disabled_provider_stops_sign_in_at_once(admins, browser, net, idp_c, reg):
    idp_c.sign_in_as(Account("scratch-sub-2", "scratch.two@alpha.cn", True))
    await _bust(admins, reg["c"], 4)
    started = await _through_provider(net, await _to_provider(browser, reg["c"]["loginPath"]))
    data = await admins["alpha"](DISABLE, {"id": reg["c"]["id"]})
    assert data["disableSsoProvider"]["ssoProvider"]["enabled"] is False
    _refused(await browser.get(started), 400, "provider_disabled")
    _refused(await browser.get(reg["c"]["loginPath"]), 404, "not_found")
    data = await admins["alpha"](UPDATE, {"id": reg["c"]["id"], "i": {"enabled": True}})
    assert data["updateSsoProvider"]["ssoProvider"]["enabled"] is True
    _session(await _sign_in(browser, net, reg["c"]))


# -- tenants ----------------------------------------------------------------------------------------


async def test_a_provider_of_tenant_b_cannot_sign_in_to_tenant_a(
    app, db, browser, net, idp_b, reg, tenant_a
):
    # Bravo's provider under alpha's slug does not exist.
    _refused(await browser.get(f"/auth/sso/alpha/{_pid(reg['b'])}/login"), 404, "not_found")
    _refused(await browser.get(f"/auth/sso/bravo/{_pid(reg['a'])}/login"), 404, "not_found")

    # Bravo's IdP vouches for alpha's sales user (alpha.cn is in bravo's allowed domains): the
    # user is not bravo's, and bravo's provider may not pull them in.
    idp_b.sign_in_as(Account("bravo-sub-lina", tenant_a.sales_email, True))
    _refused(await _sign_in(browser, net, reg["b"]), 403, "account_refused")
    async with db.core_session() as session:
        user = (
            await session.execute(select(User).where(User.email == tenant_a.sales_email))
        ).scalar_one()
        memberships = (
            (
                await session.execute(
                    select(Membership.tenant_id).where(Membership.user_id == user.id)
                )
            )
            .scalars()
            .all()
        )
    assert memberships == [tenant_a.ref.id]

    # A bravo person signs in to bravo; that identity is bravo's.
    idp_b.sign_in_as(Account("bravo-sub-olga", "olga@bravo.cn", True, "Olga"))
    body = _session(await _sign_in(browser, net, reg["b"]))
    assert (await _viewer(app, body["accessToken"]))["tenantSlug"] == "bravo"
    # Alpha registered the same issuer: the same (issuer, subject) still cannot enter alpha.
    _refused(await _sign_in(browser, net, reg["a_on_b"]), 403, "account_refused")
    assert (
        await _count(
            db,
            select(func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.email == "olga@bravo.cn", Membership.tenant_id == tenant_a.ref.id),
        )
    ) == 0


# -- configuration ----------------------------------------------------------------------------------


async def test_production_needs_https_issuers_and_a_cookie_secret(settings):
    from starlette.applications import Starlette

    from crm_api.sso import SsoEndpoints
    from crm_core.errors import DomainError
    from crm_core.identity.sso_providers import check_provider_url
    from crm_core.settings import Environment

    prod = settings.model_copy(update={"environment": Environment.production})
    assert prod.is_production
    with pytest.raises(DomainError):
        check_provider_url("http://127.0.0.1:8080", prod, "issuer")
    assert check_provider_url("https://login.example.com/", prod, "issuer")
    # Without CRM_SSO__COOKIE_SECRET, production answers 503 rather than sign flows with a
    # per-process secret that other replicas do not share.
    endpoints = SsoEndpoints(prod, {})
    bare = Starlette(routes=[endpoints.mount()])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url=BASE) as c:
        response = await c.get(f"/auth/sso/alpha/{uuid.uuid4()}/login")
    _refused(response, 503, "sso_not_configured")
