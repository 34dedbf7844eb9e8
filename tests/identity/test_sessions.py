"""Refresh tokens: rotation, reuse detection, races, logout, binding to user and company."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

from crmtest import token_service
from sqlalchemy import func, select, update

from crm_core.identity import service
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Membership, RefreshToken, TenantStatus, User

WHO = "{ viewer { tenantSlug role } }"


def _hash(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


async def _row(db, raw: str) -> RefreshToken:
    async with db.core_session() as session:
        stmt = select(RefreshToken).where(RefreshToken.token_hash == _hash(raw))
        return (await session.execute(stmt)).scalar_one()


async def test_login_returns_a_refresh_token_stored_only_hashed(ident, db) -> None:
    email = await ident.person("alpha")
    session = await ident.session(email)
    raw = session["refreshToken"]
    assert raw.startswith("crm_rt_") and len(raw) == 50
    row = await _row(db, raw)
    assert row.token_hash == _hash(raw)
    assert row.used_at is row.revoked_at is None
    # An access token of the session works; the refresh token is no access token.
    assert (await ident.as_(session)(WHO))["viewer"]["tenantSlug"] == "alpha"
    response = await ident.anon.client.post(
        "/graphql", json={"query": WHO}, headers={"authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(ident, db) -> None:
    email = await ident.person("alpha")
    first = await ident.session(email)
    second = (await ident.refresh(first["refreshToken"]))["session"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await ident.as_(second)(WHO))["viewer"] == {"tenantSlug": "alpha", "role": "SALES"}
    third = (await ident.refresh(second["refreshToken"]))["session"]
    old, newest = await _row(db, first["refreshToken"]), await _row(db, third["refreshToken"])
    assert old.family_id == newest.family_id and old.used_at is not None

    # The first token again: someone holds a copy. Refused, and the family is ended...
    replay = await ident.refresh(first["refreshToken"])
    assert replay["session"] is None
    assert ident.codes(replay) == ["UNAUTHENTICATED"]
    # ...so the newest token, held by whoever rotated last, stops working too.
    after = await ident.refresh(third["refreshToken"])
    assert after["session"] is None and after["errors"] == replay["errors"]
    assert (await _row(db, third["refreshToken"])).revoked_at is not None
    # Other sign-ins of the same person are not touched.
    other = await ident.session(email)
    assert (await ident.refresh(other["refreshToken"]))["errors"] == []


async def test_two_concurrent_refreshes_of_one_token_yield_one_successor(ident, db) -> None:
    email = await ident.person("alpha")
    token = (await ident.session(email))["refreshToken"]
    results = await asyncio.gather(ident.refresh(token), ident.refresh(token))
    won = [r for r in results if r["session"] is not None]
    lost = [r for r in results if r["session"] is None]
    assert len(won) == 1 and len(lost) == 1
    assert ident.codes(lost[0]) == ["UNAUTHENTICATED"]
    family = (await _row(db, token)).family_id
    async with db.core_session() as session:
        rows = (
            await session.execute(select(func.count()).where(RefreshToken.family_id == family))
        ).scalar_one()
    assert rows == 2  # the presented token and exactly one successor
    # The loser presented a token already used: that is reuse, so the family is ended (a client
    # must refresh from one place at a time). Never two live successors.
    assert (await ident.refresh(won[0]["session"]["refreshToken"]))["session"] is None


async def test_expired_and_unknown_tokens_are_refused_alike(ident, db) -> None:
    email = await ident.person("alpha")
    token = (await ident.session(email))["refreshToken"]
    async with db.core_transaction() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == _hash(token))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await ident.refresh(token)
    unknown = await ident.refresh("crm_rt_" + "A" * 43)
    junk = await ident.refresh("not a token")
    assert expired == unknown == junk
    assert ident.codes(expired) == ["UNAUTHENTICATED"]


async def test_a_family_ends_at_its_absolute_lifetime(db, settings, tenant_a) -> None:
    tokens = token_service(
        db, settings, refresh_token_ttl_seconds=3_600, refresh_family_ttl_seconds=7_200
    )
    signed = await service.start_session(
        db, tokens, user_id=tenant_a.sales.user_id, tenant=tenant_a.ref, role=tenant_a.sales.role
    )
    # Pretend the sign-in happened almost two hours ago.
    async with db.core_transaction() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == _hash(signed.refresh_token))
            .values(issued_at=datetime.now(UTC) - timedelta(seconds=7_000))
        )
    renewed = await service.refresh_session(db, tokens, refresh_token=signed.refresh_token)
    left = renewed.refresh_expires_at - datetime.now(UTC).timestamp()
    assert 150 < left <= 200  # capped by the family's end, not a fresh hour


async def test_logout_ends_one_sign_in_and_everywhere_ends_all(ident) -> None:
    email = await ident.person("alpha", "bravo")
    phone = await ident.session(email, "alpha")
    laptop = await ident.session(email, "alpha")
    other_company = await ident.session(email, "bravo")
    assert await ident.logout(phone["refreshToken"]) == {"ok": True, "errors": []}
    assert ident.codes(await ident.refresh(phone["refreshToken"])) == ["UNAUTHENTICATED"]
    laptop = (await ident.refresh(laptop["refreshToken"]))["session"]
    assert laptop is not None
    # Logging out twice, or with a token nobody knows, is fine.
    assert (await ident.logout(phone["refreshToken"]))["ok"] is True
    assert (await ident.logout("crm_rt_" + "B" * 43))["ok"] is True
    # "Everywhere" needs a live token...
    refused = await ident.logout(phone["refreshToken"], everywhere=True)
    assert refused["ok"] is False and ident.codes(refused) == ["UNAUTHENTICATED"]
    # ...and ends every sign-in of the person, in every company.
    assert (await ident.logout(laptop["refreshToken"], everywhere=True))["ok"] is True
    for s in (laptop, other_company):
        assert ident.codes(await ident.refresh(s["refreshToken"])) == ["UNAUTHENTICATED"]


async def test_suspended_company_is_refused_at_refresh_and_resumes(ident, db) -> None:
    await tenants.create(db, tenants.TenantInput(slug="charlie", name="Charlie Co."))
    email = await ident.person("charlie")
    token = (await ident.session(email))["refreshToken"]
    await tenants.set_status(db, "charlie", TenantStatus.suspended)
    try:
        refused = await ident.refresh(token)
        assert refused["session"] is None and ident.codes(refused) == ["SUSPENDED"]
    finally:
        await tenants.set_status(db, "charlie", TenantStatus.active)
    # Suspension did not use the token up: the session resumes with the company.
    resumed = await ident.refresh(token)
    assert resumed["errors"] == [] and resumed["session"]["tenantSlug"] == "charlie"


async def test_refresh_is_bound_to_the_membership_and_the_account(ident, db) -> None:
    email = await ident.person("alpha")
    token = (await ident.session(email))["refreshToken"]
    async with db.core_session() as session:
        user = (await session.execute(select(User).where(User.email == email))).scalar_one()
    async with db.core_transaction() as session:
        await session.execute(
            update(Membership).where(Membership.user_id == user.id).values(is_active=False)
        )
    assert ident.codes(await ident.refresh(token)) == ["UNAUTHENTICATED"]
    # Removal ended the family for good: coming back does not revive it.
    async with db.core_transaction() as session:
        await session.execute(
            update(Membership).where(Membership.user_id == user.id).values(is_active=True)
        )
    assert ident.codes(await ident.refresh(token)) == ["UNAUTHENTICATED"]
    # A role change reaches the next refresh.
    fresh = (await ident.session(email))["refreshToken"]
    async with db.core_transaction() as session:
        await session.execute(
            update(Membership).where(Membership.user_id == user.id).values(role="manager")
        )
    assert (await ident.refresh(fresh))["session"]["role"] == "MANAGER"
