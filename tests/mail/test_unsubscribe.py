"""Unsubscribe: every notification carries a signed link (footer and RFC 8058 headers), the page
records the opt-out in the link's tenant only, the sender honours it afterwards, transactional
mail is unaffected; forged and cross-tenant tokens are refused; admins list and lift
suppressions over GraphQL, in their own tenant only."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from crmtest import make_tenant
from sqlalchemy import select

from crm_core.mail import unsubscribe
from crm_core.mail.models import MailStatus, MailSuppression, SuppressionReason
from crm_core.mail.outbox import queue_mail, suppress
from crm_core.messaging.outbox import NullDispatcher, unit_of_work

ERRORS = "errors { field code message }"
LIST = (
    "query($r: MailSuppressionReason) { mailSuppressions(reason: $r) { address reason bounces } }"
)
SUPPRESS = f"mutation($a: String!) {{ suppressMailAddress(address: $a) {{ address {ERRORS} }} }}"
UNSUPPRESS = f"""mutation($a: String!, $b: Boolean! = true) {{
  unsuppressMailAddress(address: $a, clearBounce: $b) {{ address removed {ERRORS} }} }}"""
U_LINK = r"http://127\.0\.0\.1:8000/u/[A-Za-z0-9_-]+"


@pytest.fixture(scope="module")
async def world(db: Any, gql_as: Any) -> dict[str, Any]:
    a = await make_tenant(db, "uns-alpha")
    b = await make_tenant(db, "uns-bravo")
    return {
        "a": a,
        "b": b,
        "admin": await gql_as(a.admin_email),
        "b_admin": await gql_as(b.admin_email),
        "sales": await gql_as(a.sales_email),
    }


_n = iter(range(1_000_000))


async def notify(db: Any, tenant: Any, to: str, *, transactional: bool = False) -> str:
    key = f"test.notice:{next(_n)}"
    async with unit_of_work(db.tenant(tenant.ref), NullDispatcher()) as session:
        await queue_mail(
            session,
            tenant.ref,
            event_key=key,
            to=to,
            template="password_reset" if transactional else "job_ended",
            context={"link": "http://x/reset", "minutes": 30}
            if transactional
            else {"kind": "imports.run", "job_id": key, "status": "succeeded", "error": ""},
            locale="en",
            transactional=transactional,
        )
    return key


async def suppressions(db: Any, tenant: Any) -> set[tuple[str, SuppressionReason]]:
    async with db.tenant(tenant.ref).read() as session:
        rows = await session.execute(select(MailSuppression.address, MailSuppression.reason))
        return {(r.address, r.reason) for r in rows}


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


async def test_link_header_page_and_the_sender_honours_the_opt_out(world, db, kit, page) -> None:
    a, b = world["a"], world["b"]
    to = "reader@example.cn"
    key = await notify(db, a, to)
    assert (await kit.deliver_all(a.ref, key))[key] is MailStatus.sent
    msg = kit.box.to(to)[-1]
    header = msg["List-Unsubscribe"]
    assert header.startswith("<http://127.0.0.1:8000/u/") and header.endswith(">")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert kit.link_in(msg, U_LINK) == url and url in kit.html(msg)
    shown = await page.get(path_of(url))
    assert shown.status_code == 200 and to in shown.text and "<form" in shown.text
    assert await suppressions(db, a) == set()  # a GET changes nothing (link scanners)
    done = await page.post(path_of(url))
    assert done.status_code == 200
    assert (await page.post(path_of(url))).status_code == 200  # again: harmless
    assert await suppressions(db, a) == {(to, SuppressionReason.opt_out)}
    assert await suppressions(db, b) == set()
    # The next notification is not sent; a transactional mail still is, without a link.
    before = len(kit.box.to(to))
    later = await notify(db, a, to)
    assert (await kit.deliver_all(a.ref, later))[later] is MailStatus.suppressed
    assert len(kit.box.to(to)) == before
    reset = await notify(db, a, to, transactional=True)
    assert (await kit.deliver_all(a.ref, reset))[reset] is MailStatus.sent
    last = kit.box.to(to)[-1]
    assert last["List-Unsubscribe"] is None and "/u/" not in kit.text(last)
    # Tenant B still mails the same address.
    in_b = await notify(db, b, to)
    assert (await kit.deliver_all(b.ref, in_b))[in_b] is MailStatus.sent


async def test_one_click_post_as_mail_clients_send_it(world, db, kit, page) -> None:
    a = world["a"]
    to = "oneclick@example.cn"
    key = await notify(db, a, to)
    await kit.deliver_all(a.ref, key)
    url = kit.box.to(to)[-1]["List-Unsubscribe"][1:-1]
    response = await page.post(
        path_of(url),
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert (to, SuppressionReason.opt_out) in await suppressions(db, a)


async def test_forged_and_cross_tenant_tokens_are_refused(world, db, keys, page) -> None:
    a, b = world["a"], world["b"]
    to = "victim@example.cn"
    cipher_a = await keys.cipher(db, a.ref.id)
    token = unsubscribe.mint(cipher_a, to)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    # A's token with B's tenant id (A's MAC): B's key does not verify it.
    swapped = bytearray(raw)
    swapped[1:17] = b.ref.id.bytes
    # Another address under A's MAC; a flipped MAC byte; junk.
    other = raw[:17] + b"boss@example.cn" + raw[-16:]
    flipped = bytearray(raw)
    flipped[-1] ^= 1
    for bad in (b64(bytes(swapped)), b64(bytes(other)), b64(bytes(flipped)), "junk", "A" * 400):
        assert (await page.post(f"/u/{bad}")).status_code == 404, bad
        assert (await page.get(f"/u/{bad}")).status_code == 404
    assert (to, SuppressionReason.opt_out) not in await suppressions(db, a)
    assert await suppressions(db, b) == set()
    # A genuine token of B opts out in B only.
    token_b = unsubscribe.mint(await keys.cipher(db, b.ref.id), to)
    assert (await page.post(f"/u/{token_b}")).status_code == 200
    assert (to, SuppressionReason.opt_out) in await suppressions(db, b)
    assert (to, SuppressionReason.opt_out) not in await suppressions(db, a)


async def test_admins_list_and_lift_suppressions_in_their_tenant_only(world, db, kit) -> None:
    a, admin, b_admin = world["a"], world["admin"], world["b_admin"]
    done = (await admin(SUPPRESS, {"a": " Quiet@Example.cn "}))["suppressMailAddress"]
    assert done == {"address": "quiet@example.cn", "errors": []}
    async with db.tenant(a.ref).transaction() as session:
        await suppress(session, "bounced@example.cn", SuppressionReason.bounce, "550")
    listed = {(s["address"], s["reason"]) for s in (await admin(LIST))["mailSuppressions"]}
    assert {("quiet@example.cn", "OPT_OUT"), ("bounced@example.cn", "BOUNCE")} <= listed
    bounces = (await admin(LIST, {"r": "BOUNCE"}))["mailSuppressions"]
    assert {s["reason"] for s in bounces} == {"BOUNCE"}
    # Tenant B sees none of A's and cannot lift them.
    b_listed = {s["address"] for s in (await b_admin(LIST))["mailSuppressions"]}
    assert not b_listed & {"quiet@example.cn", "bounced@example.cn"}
    lifted_b = (await b_admin(UNSUPPRESS, {"a": "quiet@example.cn"}))["unsuppressMailAddress"]
    assert lifted_b["removed"] == 0
    assert ("quiet@example.cn", SuppressionReason.opt_out) in await suppressions(db, a)
    # Bad input names the field.
    bad = (await admin(SUPPRESS, {"a": "nope"}))["suppressMailAddress"]
    assert (bad["errors"][0]["field"], bad["errors"][0]["code"]) == ("address", "INVALID")
    bad = (await admin(UNSUPPRESS, {"a": "nope"}))["unsuppressMailAddress"]
    assert bad["errors"][0]["field"] == "address"
    # An opt-in keeps a bounce when asked to; then the bounce is cleared too, and mail flows.
    kept = await admin(UNSUPPRESS, {"a": "bounced@example.cn", "b": False})
    assert kept["unsuppressMailAddress"]["removed"] == 0
    cleared = (await admin(UNSUPPRESS, {"a": "bounced@example.cn"}))["unsuppressMailAddress"]
    assert cleared["removed"] == 1
    key = await notify(db, a, "bounced@example.cn")
    assert (await kit.deliver_all(a.ref, key))[key] is MailStatus.sent
    # Without settings:manage: refused.
    denied = await world["sales"].post(LIST)
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = await world["sales"].post(SUPPRESS, {"a": "x@example.cn"})
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
