"""Password change and reset, and hashes upgraded at sign-in."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from crmtest import PASSWORD
from sqlalchemy import select, update

from crm_core.identity import password_reset, passwords
from crm_core.identity.models import PasswordResetToken
from crm_core.mail.models import MailOutbox
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Membership, Tenant, User

NEW = "a brand new passphrase"
CHANGE = (
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) "
    "{ session { accessToken refreshToken tenantSlug } errors { field code message } } }"
)
REQUEST = "mutation($e: String!) { requestPasswordReset(email: $e) { ok errors { code } } }"
RESET = (
    "mutation($t: String!, $n: String!) { resetPassword(token: $t, newPassword: $n) "
    "{ ok errors { field code message } } }"
)
LINK = re.compile(r"#token=(crm_pr_[A-Za-z0-9_-]{43})")


async def _user(db, email: str) -> User:
    async with db.core_session() as session:
        return (await session.execute(select(User).where(User.email == email))).scalar_one()


async def test_change_password_checks_the_current_one_and_ends_other_sign_ins(ident) -> None:
    email = await ident.person("alpha", "bravo")
    here = await ident.session(email, "alpha")
    elsewhere = await ident.session(email, "bravo")
    me = ident.as_(here)

    wrong = (await me(CHANGE, {"c": "not my password", "n": NEW}))["changePassword"]
    assert wrong["session"] is None
    assert wrong["errors"] == [
        {"field": "currentPassword", "code": "INVALID", "message": "not your current password"}
    ]
    weak = (await me(CHANGE, {"c": PASSWORD, "n": "short"}))["changePassword"]
    assert [(e["field"], e["code"]) for e in weak["errors"]] == [("newPassword", "INVALID")]
    # Refused attempts changed nothing: both sign-ins still refresh.
    here = (await ident.refresh(here["refreshToken"]))["session"]

    changed = (await me(CHANGE, {"c": PASSWORD, "n": NEW}))["changePassword"]
    assert changed["errors"] == [] and changed["session"]["tenantSlug"] == "alpha"
    for old in (here, elsewhere):
        assert ident.codes(await ident.refresh(old["refreshToken"])) == ["UNAUTHENTICATED"]
    assert (await ident.refresh(changed["session"]["refreshToken"]))["errors"] == []
    assert ident.codes(await ident.login(email, PASSWORD, "alpha")) == ["UNAUTHENTICATED"]
    assert (await ident.login(email, NEW, "alpha"))["errors"] == []


async def test_change_password_needs_a_session(ident) -> None:
    body = (await ident.anon.post(CHANGE, {"c": PASSWORD, "n": NEW})).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _mailed_links(db, email: str) -> list[str]:
    """Reset links queued for ``email`` in the outbox of the company it is mailed from."""
    links: list[str] = []
    async with db.core_session() as session:
        tenants = (
            await session.execute(
                select(Tenant.id, Tenant.slug)
                .join(Membership, Membership.tenant_id == Tenant.id)
                .join(User, User.id == Membership.user_id)
                .where(User.email == email)
            )
        ).all()
    for tenant_id, slug in tenants:
        async with db.tenant(TenantRef(tenant_id, slug)).read() as session:
            rows = await session.execute(
                select(MailOutbox.context)
                .where(MailOutbox.to_address == email, MailOutbox.template == "password_reset")
                .order_by(MailOutbox.created_at, MailOutbox.id)
            )
            links += [c["link"] for c in rows.scalars()]
    return links


async def _request(ident, db, caplog, email: str) -> str | None:
    """Ask for a reset link; the token it carries, read from the one mail queued for it."""
    caplog.clear()
    before = await _mailed_links(db, email)
    data = await ident.anon(REQUEST, {"e": email})
    assert data["requestPasswordReset"] == {"ok": True, "errors": []}
    after = await _mailed_links(db, email)
    if len(after) == len(before):
        assert not [r for r in caplog.records if LINK.search(r.getMessage())]
        return None
    assert len(after) == len(before) + 1
    match = LINK.search(after[-1])
    assert match is not None
    return match.group(1)


async def test_reset_link_sets_a_password_once_and_ends_every_sign_in(ident, db, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    email = await ident.person("alpha")
    signed_in = await ident.session(email)
    token = await _request(ident, db, caplog, email)
    assert token is not None
    # No log shows the token, at any level (it travels by mail), and only its hash is stored.
    assert sum(token in r.getMessage() for r in caplog.records) == 0
    async with db.core_session() as session:
        rows = (await session.execute(select(PasswordResetToken))).scalars().all()
    assert all(token.encode() not in r.token_hash for r in rows)

    weak = (await ident.anon(RESET, {"t": token, "n": "short"}))["resetPassword"]
    assert weak["ok"] is False and weak["errors"][0]["field"] == "newPassword"
    done = (await ident.anon(RESET, {"t": token, "n": NEW}))["resetPassword"]
    assert done == {"ok": True, "errors": []}
    assert ident.codes(await ident.refresh(signed_in["refreshToken"])) == ["UNAUTHENTICATED"]
    assert (await ident.login(email, NEW))["errors"] == []
    again = (await ident.anon(RESET, {"t": token, "n": "yet another passphrase"}))["resetPassword"]
    assert again == {
        "ok": False,
        "errors": [
            {
                "field": "token",
                "code": "INVALID",
                "message": "this link is invalid, used or expired",
            }
        ],
    }


async def test_reset_links_expire_and_only_the_newest_works(ident, db, caplog) -> None:
    caplog.set_level(logging.INFO)
    email = await ident.person("alpha")
    first = await _request(ident, db, caplog, email)
    second = await _request(ident, db, caplog, email)
    assert first and second and first != second
    voided = (await ident.anon(RESET, {"t": first, "n": NEW}))["resetPassword"]
    assert voided["ok"] is False
    user = await _user(db, email)
    async with db.core_transaction() as session:
        await session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = (await ident.anon(RESET, {"t": second, "n": NEW}))["resetPassword"]
    assert expired["ok"] is False and expired["errors"][0]["code"] == "INVALID"
    assert (await ident.login(email))["errors"] == []  # the old password still works


async def test_reset_request_answers_the_same_for_unknown_addresses(ident, db, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    assert await _request(ident, db, caplog, "nobody-here@example.cn") is None
    assert await _request(ident, db, caplog, "not an address") is None
    assert not [r for r in caplog.records if password_reset.RESET_MARKER in r.getMessage()]


async def test_reset_requests_per_address_are_limited_silently(ident, db, caplog, settings) -> None:
    caplog.set_level(logging.INFO)
    email = await ident.person("alpha")
    tokens = [
        await _request(ident, db, caplog, email) for _ in range(settings.auth.reset_requests_free)
    ]
    assert all(tokens)
    # One more is held back: same answer, no mail.
    assert await _request(ident, db, caplog, email) is None


async def test_sign_in_upgrades_a_hash_made_with_weaker_parameters(ident, db) -> None:
    email = await ident.person("alpha")
    weak = PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=1).hash(PASSWORD)
    async with db.core_transaction() as session:
        await session.execute(update(User).where(User.email == email).values(password_hash=weak))
    assert passwords.needs_rehash(weak)
    assert (await ident.login(email))["errors"] == []
    upgraded = (await _user(db, email)).password_hash
    assert upgraded != weak and not passwords.needs_rehash(upgraded)
    assert f"m={RFC_9106_LOW_MEMORY.memory_cost},t={RFC_9106_LOW_MEMORY.time_cost}" in upgraded
    assert (await ident.login(email))["errors"] == []


@pytest.mark.parametrize("length", [passwords.MAX_LENGTH + 1, 100_000])
async def test_over_long_passwords_are_refused_before_hashing(ident, length) -> None:
    email = await ident.person("alpha")
    before = passwords.verification_count()
    refused = await ident.login(email, "x" * length)
    assert ident.codes(refused) == ["UNAUTHENTICATED"]
    assert passwords.verification_count() == before
