"""Member invitations end to end: the mail through a real SMTP server, its link accepted on the
public page and through GraphQL, sign-in afterwards; expiry, revocation, reuse and resend; the
role rules; audit; and two tenants that cannot see or touch each other's invitations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crmtest import GQL, LOGIN, PASSWORD, make_tenant
from sqlalchemy import select, update

from crm_api.relay import from_global_id, to_global_id
from crm_core.identity.models import Invitation, PlatformAuditEvent
from crm_core.mail.models import MailStatus

ERRORS = "errors { field code message }"
INV = "id email name role status sendCount teamId expiresAt acceptedAt revokedAt"
INVITE = f"mutation($i: InviteMemberInput!) {{ inviteMember(input: $i) {{ invitation {{ {INV} }} {ERRORS} }} }}"
RESEND = f"mutation($id: ID!) {{ resendInvitation(id: $id) {{ invitation {{ {INV} }} {ERRORS} }} }}"
REVOKE = f"mutation($id: ID!) {{ revokeInvitation(id: $id) {{ invitation {{ {INV} }} {ERRORS} }} }}"
LIST = "query($s: InvitationStatus) { invitations(status: $s) { id email status role } }"
ACCEPT = f"""mutation($t: String!, $n: String, $p: String!) {{
  acceptInvitation(token: $t, name: $n, password: $p) {{
    session {{ accessToken tenantSlug role }} {ERRORS} }} }}"""
VIEWER = "{ viewer { tenantSlug role user { name email } } }"
LINK = r"http://127\.0\.0\.1:8000/invite/crm_inv_[A-Za-z0-9_-]{43}"
NEW_PASSWORD = "a long new password 1"


@pytest.fixture(scope="module")
async def world(db: Any, gql_as: Any) -> dict[str, Any]:
    a = await make_tenant(db, "inv-alpha")
    b = await make_tenant(db, "inv-bravo")
    return {
        "a": a,
        "b": b,
        "admin": await gql_as(a.admin_email),
        "b_admin": await gql_as(b.admin_email),
        "sales": await gql_as(a.sales_email),
    }


async def invite(gql: GQL, email: str, role: str = "SALES", **more: Any) -> dict[str, Any]:
    result = (await gql(INVITE, {"i": {"email": email, "role": role, **more}}))["inviteMember"]
    assert result["errors"] == [], result
    return result["invitation"]  # type: ignore[no-any-return]


async def mailed_link(kit: Any, tenant: Any, address: str) -> str:
    statuses = await kit.deliver_all(tenant.ref, "user.invitation:")
    assert set(statuses.values()) <= {MailStatus.sent}, statuses
    msg = kit.box.to(address)[-1]
    assert msg["List-Unsubscribe"] is None  # transactional: no unsubscribe
    return kit.link_in(msg, LINK).removeprefix("http://127.0.0.1:8000")  # type: ignore[no-any-return]


async def sign_in(app: Any, email: str, password: str, tenant: str) -> dict[str, Any]:
    data = await GQL(app)(LOGIN, {"i": {"email": email, "password": password, "tenant": tenant}})
    return data["login"]  # type: ignore[no-any-return]


async def test_round_trip_through_smtp_and_the_page(world, kit, page, app, db) -> None:
    a = world["a"]
    inv = await invite(world["admin"], "new.rep@example.cn", name="王芳")
    assert inv["status"] == "PENDING" and inv["sendCount"] == 1
    path = await mailed_link(kit, a, "new.rep@example.cn")
    msg = kit.box.to("new.rep@example.cn")[-1]
    assert "inv-alpha Co." in msg["Subject"] and "王芳" in kit.text(msg)
    shown = await page.get(path)
    assert shown.status_code == 200 and 'name="password"' in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    # A password the policy refuses: the form again, the error beside the field.
    weak = await page.post(path, data={"name": "王芳", "password": "short"})
    assert weak.status_code == 422 and "10" in weak.text
    done = await page.post(path, data={"name": "王芳", "password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    login = await sign_in(app, "new.rep@example.cn", NEW_PASSWORD, "inv-alpha")
    assert login["errors"] == [] and login["session"]["role"] == "SALES"
    me = await GQL(app, login["session"]["accessToken"])(VIEWER)
    assert me["viewer"]["user"]["name"] == "王芳"
    # Single use: the page and the mutation both refuse it now.
    again = await page.get(path)
    assert again.status_code == 409
    token = path.rsplit("/", 1)[1]
    reused = (await GQL(app)(ACCEPT, {"t": token, "n": "x", "p": NEW_PASSWORD}))["acceptInvitation"]
    assert reused["session"] is None and reused["errors"][0]["field"] == "token"
    listed = (await world["admin"](LIST, {"s": "ACCEPTED"}))["invitations"]
    assert [i["email"] for i in listed] == ["new.rep@example.cn"]
    pk = from_global_id(inv["id"])[1]
    async with db.core_session() as session:
        actions = (
            await session.execute(
                select(PlatformAuditEvent.action, PlatformAuditEvent.tenant_id).where(
                    PlatformAuditEvent.target == str(pk)
                )
            )
        ).all()
    assert sorted(a_ for a_, _ in actions) == ["invitation.accept", "invitation.create"]
    assert {t for _, t in actions} == {a.ref.id}


async def test_accept_through_graphql_signs_in(world, kit, app) -> None:
    await invite(world["admin"], "gql.new@example.cn", role="VIEWER")
    token = (await mailed_link(kit, world["a"], "gql.new@example.cn")).rsplit("/", 1)[1]
    no_name = (await GQL(app)(ACCEPT, {"t": token, "p": NEW_PASSWORD}))["acceptInvitation"]
    assert (no_name["errors"][0]["field"], no_name["errors"][0]["code"]) == ("name", "REQUIRED")
    weak = (await GQL(app)(ACCEPT, {"t": token, "n": "Gao", "p": "short"}))["acceptInvitation"]
    assert weak["errors"][0]["field"] == "password"
    ok = (await GQL(app)(ACCEPT, {"t": token, "n": "Gao", "p": NEW_PASSWORD}))["acceptInvitation"]
    assert ok["errors"] == [] and ok["session"]["tenantSlug"] == "inv-alpha"
    me = await GQL(app, ok["session"]["accessToken"])(VIEWER)
    assert me["viewer"]["role"] == "VIEWER"
    assert (await sign_in(app, "gql.new@example.cn", NEW_PASSWORD, "inv-alpha"))["errors"] == []


async def test_an_existing_account_gives_its_own_password(world, kit, app, page) -> None:
    # The sales rep of tenant B joins tenant A.
    b_sales = world["b"].sales_email
    await invite(world["admin"], b_sales, role="SERVICE")
    token = (await mailed_link(kit, world["a"], b_sales)).rsplit("/", 1)[1]
    wrong = (await GQL(app)(ACCEPT, {"t": token, "p": "not my password"}))["acceptInvitation"]
    assert wrong["session"] is None and wrong["errors"][0]["field"] == "password"
    ok = (await GQL(app)(ACCEPT, {"t": token, "p": PASSWORD}))["acceptInvitation"]
    assert ok["errors"] == [] and ok["session"]["role"] == "SERVICE"
    # Still the same account in B, with its role there.
    login_b = await sign_in(app, b_sales, PASSWORD, "inv-bravo")
    assert login_b["session"]["role"] == "SALES"
    # On the page an existing account just accepts (no password asked; it signs in as usual).
    b_viewer = world["b"].viewer_email
    await invite(world["admin"], b_viewer, role="VIEWER")
    path = await mailed_link(kit, world["a"], b_viewer)
    shown = await page.get(path)
    assert shown.status_code == 200 and 'name="password"' not in shown.text
    assert (await page.post(path, data={})).status_code == 200
    assert (await sign_in(app, b_viewer, PASSWORD, "inv-alpha"))["session"]["role"] == "VIEWER"


async def test_expired_revoked_and_resent_links(world, kit, page, app, db) -> None:
    admin = world["admin"]
    late = await invite(admin, "late@example.cn")
    late_path = await mailed_link(kit, world["a"], "late@example.cn")
    async with db.core_transaction() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.id == from_global_id(late["id"])[1])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert (await page.get(late_path)).status_code == 410
    token = late_path.rsplit("/", 1)[1]
    expired = (await GQL(app)(ACCEPT, {"t": token, "n": "x", "p": NEW_PASSWORD}))[
        "acceptInvitation"
    ]
    assert "expired" in expired["errors"][0]["message"]
    assert [i["status"] for i in (await admin(LIST, {"s": "EXPIRED"}))["invitations"]] == [
        "EXPIRED"
    ]
    # Resend: a new link and expiry, a second mail; the old link is dead.
    resent = (await admin(RESEND, {"id": late["id"]}))["resendInvitation"]
    assert resent["errors"] == [] and resent["invitation"]["status"] == "PENDING"
    assert resent["invitation"]["sendCount"] == 2
    new_path = await mailed_link(kit, world["a"], "late@example.cn")
    assert new_path != late_path and len(kit.box.to("late@example.cn")) == 2
    assert (await page.get(late_path)).status_code == 404
    assert (await page.get(new_path)).status_code == 200
    # Revoked: the link answers "withdrawn"; revoking twice is harmless; no resend after.
    revoked = (await admin(REVOKE, {"id": late["id"]}))["revokeInvitation"]
    assert revoked["invitation"]["status"] == "REVOKED"
    assert (await admin(REVOKE, {"id": late["id"]}))["revokeInvitation"]["errors"] == []
    assert (await page.get(new_path)).status_code == 410
    posted = await page.post(new_path, data={"name": "x", "password": NEW_PASSWORD})
    assert posted.status_code == 410
    no_resend = (await admin(RESEND, {"id": late["id"]}))["resendInvitation"]
    assert no_resend["errors"][0]["field"] == "id"
    # Junk and forged tokens.
    assert (await page.get("/invite/junk")).status_code == 404
    forged = new_path[:-3] + ("AAA" if not new_path.endswith("AAA") else "BBB")
    assert (await page.get(forged)).status_code == 404


@pytest.mark.parametrize(
    ("by", "variables", "field", "code"),
    [
        ("admin", {"email": "sales@inv-alpha.cn", "role": "SALES"}, "input.email", "DUPLICATE"),
        ("admin", {"email": "not-an-address", "role": "SALES"}, "input.email", "INVALID"),
        ("admin", {"email": "boss@example.cn", "role": "OWNER"}, "input.role", "FORBIDDEN"),
        (
            "admin",
            {
                "email": "t@example.cn",
                "role": "SALES",
                "teamId": to_global_id("Team", __import__("uuid").uuid4()),
            },
            "input.teamId",
            "NOT_FOUND",
        ),
    ],
)
async def test_bad_invitations_name_the_field(world, by, variables, field, code) -> None:
    result = (await world[by](INVITE, {"i": variables}))["inviteMember"]
    assert result["invitation"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code)


async def test_one_live_invitation_per_address_and_permission(world) -> None:
    await invite(world["admin"], "twice@example.cn")
    again = (await world["admin"](INVITE, {"i": {"email": "Twice@Example.cn", "role": "SALES"}}))[
        "inviteMember"
    ]
    assert (again["errors"][0]["field"], again["errors"][0]["code"]) == ("input.email", "DUPLICATE")
    # A sales rep lacks users:manage.
    denied = await world["sales"].post(INVITE, {"i": {"email": "x@example.cn", "role": "SALES"}})
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = await world["sales"].post(LIST)
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_two_tenants_never_see_each_others_invitations(world, kit, app, page) -> None:
    mine = await invite(world["admin"], "only-a@example.cn", role="MANAGER")
    theirs = await invite(world["b_admin"], "only-b@example.cn")
    a_list = {i["email"] for i in (await world["admin"](LIST))["invitations"]}
    b_list = {i["email"] for i in (await world["b_admin"](LIST))["invitations"]}
    assert "only-a@example.cn" in a_list and "only-a@example.cn" not in b_list
    assert "only-b@example.cn" in b_list and "only-b@example.cn" not in a_list
    # B's admin cannot revoke or resend A's invitation: "not found", as a missing one.
    for doc, name in ((REVOKE, "revokeInvitation"), (RESEND, "resendInvitation")):
        result = (await world["b_admin"](doc, {"id": mine["id"]}))[name]
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == ("id", "NOT_FOUND")
    a_status = {i["email"]: i["status"] for i in (await world["admin"](LIST))["invitations"]}
    assert a_status["only-a@example.cn"] == "PENDING"
    # Each tenant's mail goes from its own outbox.
    assert [r.to_address for r in await kit.queued(world["b"].ref, "user.invitation:")] == [
        "only-b@example.cn"
    ]
    # An invitation to A grants nothing in B.
    path = await mailed_link(kit, world["a"], "only-a@example.cn")
    assert (
        await page.post(path, data={"name": "Only A", "password": NEW_PASSWORD})
    ).status_code == 200
    assert (await sign_in(app, "only-a@example.cn", NEW_PASSWORD, "inv-alpha"))["errors"] == []
    in_b = await sign_in(app, "only-a@example.cn", NEW_PASSWORD, "inv-bravo")
    assert in_b["session"] is None and in_b["errors"]
    await kit.deliver_all(world["b"].ref, "user.invitation:")
    assert (await world["b_admin"](LIST, {"s": "PENDING"}))["invitations"][0]["id"] == theirs["id"]


async def test_the_page_is_rate_limited(page, settings) -> None:
    token = "crm_inv_" + "x" * 43
    codes = [
        (await page.get(f"/invite/{token}")).status_code
        for _ in range(settings.surveys.token_requests_per_hour + 1)
    ]
    assert codes[0] == 404 and codes[-1] == 429


async def test_concurrent_invitations_of_one_address_make_one(world, db, settings) -> None:
    """The second of two simultaneous invitations waits for the first to commit and is then
    refused: never two live links for one address."""
    from crm_core.errors import DomainError
    from crm_core.identity import invitations
    from crm_core.tenants.models import Role

    a = world["a"]

    async def second() -> None:
        async with db.tenant(a.ref).transaction() as session:
            await invitations.invite(
                session, a.admin, settings.auth, email="same-time@example.cn", role=Role.sales
            )

    async with db.tenant(a.ref).transaction() as session:
        await invitations.invite(
            session, a.admin, settings.auth, email="same-time@example.cn", role=Role.sales
        )
        other = asyncio.create_task(second())
        await asyncio.sleep(0.5)
        assert not other.done()  # held until the first commits
    with pytest.raises(DomainError) as refused:
        await other
    assert refused.value.errors[0].field == "email"
    async with db.core_session() as session:
        rows = await session.execute(
            select(Invitation.id).where(Invitation.email == "same-time@example.cn")
        )
        assert len(rows.all()) == 1
