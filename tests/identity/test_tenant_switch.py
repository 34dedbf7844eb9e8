"""A person in several companies picks one at sign-in and can switch, only to their own."""

from __future__ import annotations

from crmtest import GQL, PASSWORD

from crm_core.identity.service import create_user
from crm_core.tenants.models import Role

MY_TENANTS = "{ myTenants { slug name role current } }"
SWITCH = (
    "mutation($t: String!) { switchTenant(tenant: $t) { "
    "session { accessToken refreshToken tenantSlug role } errors { field code message } } }"
)
WHO = "{ viewer { tenantSlug role } }"


async def test_sign_in_names_the_company_when_there_are_several(ident) -> None:
    email = await ident.person("alpha", "bravo")
    unnamed = await ident.login(email)
    assert unnamed["session"] is None
    assert unnamed["errors"] == [
        {
            "field": "input.tenant",
            "code": "REQUIRED",
            "message": "you belong to several companies; name one",
        }
    ]
    named = await ident.session(email, "bravo")
    assert named["tenantSlug"] == "bravo"


async def test_my_tenants_lists_only_my_companies(ident) -> None:
    both = await ident.person("alpha", "bravo")
    only_alpha = await ident.person("alpha")
    mine = await ident.as_(await ident.session(both, "alpha"))(MY_TENANTS)
    assert mine["myTenants"] == [
        {"slug": "alpha", "name": "alpha Co.", "role": "SALES", "current": True},
        {"slug": "bravo", "name": "bravo Co.", "role": "SALES", "current": False},
    ]
    theirs = await ident.as_(await ident.session(only_alpha))(MY_TENANTS)
    assert [t["slug"] for t in theirs["myTenants"]] == ["alpha"]


async def test_switch_to_another_membership_issues_a_session_there(ident, db) -> None:
    email = await ident.person("alpha")
    await create_user(
        db, email=email, name="Test Person", password=PASSWORD, tenant_slug="bravo",
        role=Role.viewer,
    )  # fmt: skip
    in_alpha = ident.as_(await ident.session(email, "alpha"))
    switched = (await in_alpha(SWITCH, {"t": "bravo"}))["switchTenant"]
    assert switched["errors"] == []
    session = switched["session"]
    assert (session["tenantSlug"], session["role"]) == ("bravo", "VIEWER")
    assert (await GQL(ident.app, session["accessToken"])(WHO))["viewer"] == {
        "tenantSlug": "bravo",
        "role": "VIEWER",
    }
    # Its refresh token stays bound to bravo.
    renewed = await ident.refresh(session["refreshToken"])
    assert renewed["session"]["tenantSlug"] == "bravo"


async def test_switch_to_a_company_that_is_not_mine_reads_as_missing(ident) -> None:
    email = await ident.person("alpha")
    me = ident.as_(await ident.session(email))
    not_mine = (await me(SWITCH, {"t": "bravo"}))["switchTenant"]
    missing = (await me(SWITCH, {"t": "no-such-company"}))["switchTenant"]
    assert not_mine == missing
    assert not_mine["session"] is None
    assert not_mine["errors"] == [
        {"field": "tenant", "code": "NOT_FOUND", "message": "company not found"}
    ]


async def test_switching_and_listing_need_a_signed_in_person(ident) -> None:
    for document, variables in ((SWITCH, {"t": "alpha"}), (MY_TENANTS, None)):
        body = (await ident.anon.post(document, variables)).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
