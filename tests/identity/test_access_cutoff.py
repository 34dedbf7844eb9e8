"""Signing out everywhere and changing the password end the user's access tokens at once, not
only their refresh tokens (a stolen access token would otherwise live until it expires)."""

from __future__ import annotations

from crmtest import GQL, PASSWORD

from crm_core.identity.service import create_user

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { session { accessToken refreshToken } errors { code } } }"
QUERY = "{ customers(first: 1) { totalCount } }"


async def _session(app, email: str) -> dict:
    data = await GQL(app)(LOGIN, {"i": {"email": email, "password": PASSWORD, "tenant": "alpha"}})
    return data["login"]["session"]


async def test_logout_everywhere_ends_access_tokens(app, db, tenant_a) -> None:
    await create_user(
        db, email="cutoff1@alpha.cn", name="Cut", password=PASSWORD, tenant_slug="alpha"
    )
    first, second = await _session(app, "cutoff1@alpha.cn"), await _session(app, "cutoff1@alpha.cn")
    assert (await GQL(app, second["accessToken"]).post(QUERY)).status_code == 200
    out = await GQL(app, first["accessToken"])(
        "mutation($r: String!) { logout(refreshToken: $r, everywhere: true) { ok errors { code } } }",
        {"r": first["refreshToken"]},
    )
    assert out["logout"]["ok"] is True
    for session in (first, second):
        assert (await GQL(app, session["accessToken"]).post(QUERY)).status_code == 401


async def test_password_change_keeps_only_the_new_session(app, db, tenant_a) -> None:
    await create_user(
        db, email="cutoff2@alpha.cn", name="Cut", password=PASSWORD, tenant_slug="alpha"
    )
    old = await _session(app, "cutoff2@alpha.cn")
    changed = await GQL(app, old["accessToken"])(
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) "
        "{ session { accessToken } errors { code } } }",
        {"c": PASSWORD, "n": "a brand new passphrase"},
    )
    fresh = changed["changePassword"]["session"]["accessToken"]
    assert (await GQL(app, fresh).post(QUERY)).status_code == 200
    assert (await GQL(app, old["accessToken"]).post(QUERY)).status_code == 401
