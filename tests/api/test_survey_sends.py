"""Survey sends and responses: a send per resolved ticket / closed complaint (once), the invitation
through the mail outbox and a real SMTP server (aiosmtpd) with a working link, the public page
without login, one response per send, expired / forged / foreign tokens, rate limits, answers
validated with field errors, reminders once, periodic sends, statistics, and two-tenant isolation.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from crmtest import TenantFixture, make_tenant
from smtptest import Mailbox, smtp_server
from sqlalchemy import func, select

from crm_api.relay import to_global_id
from crm_core.complaints import service as complaints
from crm_core.customers import service as customers
from crm_core.db.engine import Database
from crm_core.errors import DomainError
from crm_core.mail import sender
from crm_core.mail.models import MailOutbox
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantKeys
from crm_core.settings import MailSettings, Settings
from crm_core.surveys import links, responses, sending
from crm_core.surveys import service as templates
from crm_core.surveys.models import SurveyResponse, SurveySend, SurveySendStatus
from crm_core.surveys.ratelimit import SurveyRateLimiter
from crm_core.tickets import service as tickets

QUESTIONS = [
    {"key": "overall", "kind": "csat", "text": "How satisfied are you with the service?"},
    {"key": "recommend", "kind": "nps", "text": "How likely are you to recommend us?"},
    {
        "key": "channel",
        "kind": "single_choice",
        "text": "How did you reach us?",
        "options": ["phone", "e-mail"],
        "required": False,
    },
    {"key": "why", "kind": "text", "text": "Why?", "required": False},
]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with smtp_server(box) as port:
        yield box, port


class World:
    def __init__(self, tenant: TenantFixture, customer_ids: list[uuid.UUID]) -> None:
        self.t = tenant
        self.customers = customer_ids
        self.templates: dict[str, uuid.UUID] = {}


async def _world(db: Database, slug: str) -> World:
    tenant = await make_tenant(db, slug)
    ids = []
    async with unit_of_work(db.tenant(tenant.ref), NullDispatcher()) as session:
        for i, name in enumerate(["明辉贸易", "Acme Ltd", "无邮箱客户"]):
            data: dict[str, Any] = {"name": name, "kind": "company", "code": f"C-S-{i}"}
            if i < 2:
                data["email"] = f"buyer{i}@{slug}.example.cn"
            ids.append((await customers.create(session, tenant.admin, data)).id)
        world = World(tenant, ids)
        for trigger, lang in (
            ("ticket_resolved", "en"),
            ("complaint_closed", "zh"),
            ("manual", "zh"),
        ):
            row = await templates.create(
                session,
                tenant.admin,
                {
                    "name": f"{trigger} survey",
                    "kind": "mixed",
                    "trigger": trigger,
                    "language": lang,
                    "questions": QUESTIONS,
                },
            )
            world.templates[trigger] = row.id
    return world


@pytest.fixture(scope="module")
async def wa(db: Database) -> World:
    return await _world(db, "svy-alpha")


@pytest.fixture(scope="module")
async def wb(db: Database) -> World:
    return await _world(db, "svy-bravo")


@pytest.fixture(scope="module")
def keys(settings: Settings) -> TenantKeys:
    # The gateway's master key (same settings, same data dir): what the worker would hold.
    return TenantKeys(load_master_key(settings))


def client(app: Any, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


_ip_counter = [0]


def fresh_ip() -> str:
    _ip_counter[0] += 1
    return f"10.77.{_ip_counter[0] // 250}.{_ip_counter[0] % 250 + 1}"


async def _ticket(
    db: Database, w: World, customer: uuid.UUID, product: str, agent: uuid.UUID | None = None
) -> uuid.UUID:
    who = w.t.admin
    async with unit_of_work(db.tenant(w.t.ref), NullDispatcher()) as session:
        t = await tickets.create(
            session,
            who,
            customer,
            {"problem": "打印机卡纸", "product": product, "assignee_id": agent or who.user_id},
        )
        return t.id


async def _resolve(db: Database, w: World, ticket_id: uuid.UUID) -> NullDispatcher:
    sink = NullDispatcher()
    for status in ("assigned", "in_progress", "resolved"):
        async with unit_of_work(db.tenant(w.t.ref), sink) as session:
            current = await session.get(tickets.ServiceTicket, ticket_id)
            if current.status.value == status:
                continue
            await tickets.update(
                session, w.t.admin, ticket_id, {"status": status}, expected_version=None
            )
    return sink


async def _sends(db: Database, w: World, **where: Any) -> list[SurveySend]:
    async with db.tenant(w.t.ref).read() as session:
        stmt = select(SurveySend).filter_by(**where).order_by(SurveySend.created_at)
        return list((await session.execute(stmt)).scalars())


async def _issue(
    db: Database, w: World, keys: TenantKeys, settings: Settings, send_id: uuid.UUID, **kw: Any
) -> None:
    """What the ``surveys.issue_invitation`` actor does (in-process)."""
    cipher = await keys.cipher(db, w.t.ref.id)
    async with unit_of_work(db.tenant(w.t.ref), NullDispatcher()) as session:
        if kw:
            send = await session.get(SurveySend, send_id)
            template = await session.get(templates.SurveyTemplate, send.template_id)
            await sending.issue(session, w.t.ref, cipher, send, template, settings.surveys, **kw)
        else:
            await sending.issue_queued(session, w.t.ref, cipher, send_id, settings.surveys)


async def _token_of(db: Database, w: World, keys: TenantKeys, send: SurveySend) -> str:
    """The link's token, re-derived (the database holds only its hash)."""
    cipher = await keys.cipher(db, w.t.ref.id)
    token = links.mint(cipher, send.id, send.expires_at)
    assert links.token_hash(token) == send.token_hash
    return token


async def _sent_send(
    db: Database, w: World, keys: TenantKeys, settings: Settings, product: str = "P-1", **kw: Any
) -> tuple[SurveySend, str]:
    ticket = await _ticket(db, w, w.customers[0], product, kw.pop("agent", None))
    await _resolve(db, w, ticket)
    (send,) = await _sends(db, w, ticket_id=ticket)
    await _issue(db, w, keys, settings, send.id, **kw)
    (send,) = await _sends(db, w, ticket_id=ticket)
    return send, await _token_of(db, w, keys, send)


# --- sends ---------------------------------------------------------------------------------------


async def test_resolving_a_ticket_sends_once_and_the_invitation_link_works_without_login(
    db: Database, wa: World, keys: TenantKeys, settings: Settings, app: Any, smtp: Any, gql_as: Any
) -> None:
    recorder, port = smtp
    ticket = await _ticket(db, wa, wa.customers[0], "打印机 X1")
    gql = await gql_as(wa.t.admin_email, "svy-alpha")
    tid = to_global_id("ServiceTicket", ticket)
    update = (
        "mutation($id: ID!, $i: UpdateServiceTicketInput!) { updateServiceTicket(id: $id, "
        "input: $i) { serviceTicket { status } errors { field code message } } }"
    )
    for status in ("ASSIGNED", "IN_PROGRESS", "RESOLVED", "IN_PROGRESS", "RESOLVED"):
        out = await gql(update, {"id": tid, "i": {"status": status}})
        assert out["updateServiceTicket"]["errors"] == [], out
    # Resolved twice (reopened in between): one send, written by the mutation's transaction.
    (send,) = await _sends(db, wa, ticket_id=ticket)
    assert send.status is SurveySendStatus.queued
    assert send.source_key == f"ticket:{ticket}" and send.email == "buyer0@svy-alpha.example.cn"
    assert send.token_hash is None  # the key holder (the worker) mints the link
    await _issue(db, wa, keys, settings, send.id)
    await _issue(db, wa, keys, settings, send.id)  # a duplicate delivery: no second mail
    (send,) = await _sends(db, wa, ticket_id=ticket)
    assert send.status is SurveySendStatus.sent and send.token_hash is not None
    async with db.tenant(wa.t.ref).read() as session:
        mails = list(
            (
                await session.execute(
                    select(MailOutbox).where(MailOutbox.event_key.like(f"survey.%:{send.id}"))
                )
            ).scalars()
        )
    assert [(m.template, m.locale, m.to_address) for m in mails] == [
        ("survey_invitation", "en", "buyer0@svy-alpha.example.cn")
    ]
    # Through a real SMTP server: the mail carries the link.
    status = await sender.deliver(
        db.tenant(wa.t.ref), NullDispatcher(), MailSettings(port=port), mails[0].id
    )
    assert status.value == "sent"
    (message,) = [m for m in recorder.messages if m["X-CRM-Event"] == mails[0].event_key]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    url = re.search(r"(http://\S+/s/[A-Za-z0-9_-]{70})", text).group(1)
    assert url in html
    token = url.rsplit("/", 1)[1]
    assert links.token_hash(token) == send.token_hash  # only the hash is stored
    async with client(app, fresh_ip()) as c:
        page = await c.get(f"/s/{token}")  # no Authorization header
    assert page.status_code == 200, page.text
    assert "How satisfied are you with the service?" in page.text
    assert 'name="answers.overall"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and "http" not in page.text.split("<main>")[1]


async def test_a_closed_complaint_sends_once_and_no_active_template_sends_nothing(
    db: Database, wa: World
) -> None:
    async with unit_of_work(db.tenant(wa.t.ref), NullDispatcher()) as session:
        c = await complaints.create(
            session,
            wa.t.admin,
            wa.customers[1],
            {"kind": "complaint", "description": "发货太慢", "product_or_service": "物流"},
        )
    for status in ("in_progress", "resolved", "closed"):
        async with unit_of_work(db.tenant(wa.t.ref), NullDispatcher()) as session:
            await complaints.update(
                session, wa.t.admin, c.id, {"status": status}, expected_version=None
            )
    (send,) = await _sends(db, wa, complaint_id=c.id)
    assert send.locale == "zh" and send.trigger.value == "complaint_closed"
    # Without an active template for the trigger, nothing is sent.
    async with unit_of_work(db.tenant(wa.t.ref), NullDispatcher()) as session:
        await templates.update(
            session,
            wa.t.admin,
            wa.templates["ticket_resolved"],
            {"active": False},
            expected_version=None,
        )
    try:
        ticket = await _ticket(db, wa, wa.customers[1], "X")
        sink = await _resolve(db, wa, ticket)
        assert await _sends(db, wa, ticket_id=ticket) == []
        assert not [m for m in sink.sent if m.actor_name == sending.ISSUE_INVITATION]
    finally:
        async with unit_of_work(db.tenant(wa.t.ref), NullDispatcher()) as session:
            await templates.update(
                session,
                wa.t.admin,
                wa.templates["ticket_resolved"],
                {"active": True},
                expected_version=None,
            )


async def test_a_customer_without_an_address_gets_a_failed_send_and_no_mail(
    db: Database, wa: World
) -> None:
    ticket = await _ticket(db, wa, wa.customers[2], "X")
    sink = await _resolve(db, wa, ticket)
    (send,) = await _sends(db, wa, ticket_id=ticket)
    assert send.status is SurveySendStatus.failed and "e-mail" in (send.error or "")
    assert not [m for m in sink.sent if m.actor_name == sending.ISSUE_INVITATION]


# --- the public page -------------------------------------------------------------------------


async def test_one_response_per_send_with_answers_validated_by_field(
    db: Database, wa: World, keys: TenantKeys, settings: Settings, app: Any
) -> None:
    send, token = await _sent_send(db, wa, keys, settings)
    async with client(app, fresh_ip()) as c:
        bad = await c.post(
            f"/s/{token}",
            json={"answers": {"recommend": 11, "channel": "fax", "bogus": 1}, "comment": 3},
        )
        assert bad.status_code == 422
        fields = {(e["field"], e["code"]) for e in bad.json()["errors"]}
        assert fields == {
            ("answers.bogus", "INVALID"),
            ("answers.overall", "REQUIRED"),
            ("answers.recommend", "INVALID"),
            ("answers.channel", "INVALID"),
            ("comment", "INVALID"),
        }
        # The HTML form answers the same, errors beside the questions, values kept.
        form = await c.post(f"/s/{token}", data={"answers.overall": "9", "answers.why": "慢"})
        assert form.status_code == 422
        assert "a whole number from 1 to 5" in form.text and "慢</textarea>" in form.text
        ok = await c.post(
            f"/s/{token}",
            data={"answers.overall": "4", "answers.recommend": "9", "answers.channel": "phone",
                  "comment": " 很好 "},
        )  # fmt: skip
        assert ok.status_code == 200 and "Thank you" in ok.text
        again = await c.post(f"/s/{token}", json={"answers": {"overall": 1, "recommend": 0}})
        assert again.status_code == 409 and again.json() == {"error": "used"}
        page = await c.get(f"/s/{token}")
        assert page.status_code == 409 and "Already answered" in page.text
    async with db.tenant(wa.t.ref).read() as session:
        rows = list(
            (
                await session.execute(
                    select(SurveyResponse).where(SurveyResponse.send_id == send.id)
                )
            ).scalars()
        )
        stored = await session.get(SurveySend, send.id)
    assert [(r.csat, r.nps, r.comment, r.answers) for r in rows] == [
        (4, 9, "很好", {"overall": 4, "recommend": 9, "channel": "phone"})
    ]
    assert rows[0].ip_hash and "10.77" not in rows[0].ip_hash
    assert stored.status is SurveySendStatus.responded and stored.responded_at is not None


async def test_racing_posts_store_one_response(
    db: Database, wa: World, keys: TenantKeys, settings: Settings
) -> None:
    import asyncio

    send, token = await _sent_send(db, wa, keys, settings)
    opened = await responses.open_link(db, keys, token)

    async def post(score: int) -> Any:
        return await responses.submit(
            db, opened, token, {"overall": score, "recommend": score}, None, ip="10.1.1.1"
        )

    outcomes = await asyncio.gather(*(post(s) for s in (1, 2, 3, 4, 5)))
    assert sorted(o[0].value for o in outcomes) == ["open", "used", "used", "used", "used"]
    async with db.tenant(wa.t.ref).read() as session:
        n = await session.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.send_id == send.id)
        )
    assert n == 1


async def test_expired_forged_and_foreign_tokens_are_refused(
    db: Database, wa: World, wb: World, keys: TenantKeys, settings: Settings, app: Any
) -> None:
    past = datetime.now(UTC) - timedelta(days=settings.surveys.link_ttl_days + 1)
    expired, expired_token = await _sent_send(db, wa, keys, settings, now=past)
    live, token = await _sent_send(db, wa, keys, settings)
    raw = base64.urlsafe_b64decode(token + "==")
    flipped = links._b64(raw[:-1] + bytes([raw[-1] ^ 1]))  # a forged MAC
    later = links._b64(raw[:32] + (2**32 - 1).to_bytes(4, "big") + raw[36:])  # a longer expiry
    # A link of tenant B's send, signed with A's key (an A insider trying to write into B).
    b_send, _b_token = await _sent_send(db, wb, keys, settings)
    cipher_a = await keys.cipher(db, wa.t.ref.id)
    foreign_payload = wb.t.ref.id.bytes + b_send.id.bytes + raw[32:36]
    foreign = links._b64(
        foreign_payload + cipher_a.mac(foreign_payload, purpose=links.PURPOSE)[:16]
    )
    # And A's send id presented under B's tenant id with B's valid MAC form: unknown in B.
    cipher_b = await keys.cipher(db, wb.t.ref.id)
    swapped = links.mint(cipher_b, live.id, live.expires_at)
    async with client(app, fresh_ip()) as c:
        page = await c.get(f"/s/{expired_token}")
        assert page.status_code == 410 and "expired" in page.text
        post = await c.post(
            f"/s/{expired_token}", json={"answers": {"overall": 5, "recommend": 10}}
        )
        assert post.status_code == 410
        for bad in (flipped, later, foreign, swapped, "nonsense", token[:-1] + "!"):
            got = await c.get(f"/s/{bad}")
            assert got.status_code == 404, (bad, got.status_code)
            assert "Link not valid" in got.text
            sent = await c.post(f"/s/{bad}", json={"answers": {"overall": 5, "recommend": 10}})
            assert sent.status_code == 404
    for w in (wa, wb):
        async with db.tenant(w.t.ref).read() as session:
            answered = await session.scalar(
                select(func.count())
                .select_from(SurveyResponse)
                .where(SurveyResponse.send_id.in_([expired.id, live.id, b_send.id]))
            )
        assert answered == 0
    # The scan marks the unanswered expired link.
    cipher = await keys.cipher(db, wa.t.ref.id)
    async with unit_of_work(db.tenant(wa.t.ref), NullDispatcher()) as session:
        result = await sending.scan(session, wa.t.ref, cipher, settings.surveys)
    assert result.expired >= 1
    (row,) = [s for s in await _sends(db, wa) if s.id == expired.id]
    assert row.status is SurveySendStatus.expired


async def test_rate_limits_per_link_and_per_ip(
    db: Database, wa: World, keys: TenantKeys, settings: Settings, app: Any, redis_namespace: str
) -> None:
    import redis.asyncio as aioredis

    _, token = await _sent_send(db, wa, keys, settings)
    conf = settings.surveys
    r = aioredis.Redis.from_url(settings.require_redis_url())
    try:
        limiter = SurveyRateLimiter(r, namespace=redis_namespace)
        # Windows are fixed: counted at a fixed instant, the arithmetic is exact.
        at = 1_000_000.0
        lim = SurveyRateLimiter.limits("10.9.9.9", "t" * 70, per_ip_minute=3, per_token_hour=100)
        waits = [await limiter.hit(lim, now=at) for _ in range(4)]
        assert waits[:3] == [0, 0, 0] and waits[3] == pytest.approx(60 - (at % 60))
        # Through the page: the link's hour budget spent (by other IPs), the next request is 429.
        ip = fresh_ip()
        spent = SurveyRateLimiter.limits(
            "10.8.8.8", token, per_ip_minute=10**6, per_token_hour=conf.token_requests_per_hour
        )
        for _ in range(conf.token_requests_per_hour):
            await limiter.hit((spent[1],))
        async with client(app, ip) as c:
            limited = await c.get(f"/s/{token}")
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            as_json = await c.post(
                f"/s/{token}",
                json={"answers": {"overall": 5}},
            )
            assert as_json.status_code == 429 and as_json.json() == {"error": "rate_limited"}
        # Per IP: an address that spent its minute is refused whatever link it tries.
        ip = fresh_ip()
        by_ip = SurveyRateLimiter.limits(
            ip, "y" * 70, per_ip_minute=conf.ip_requests_per_minute, per_token_hour=10**6
        )
        for _ in range(conf.ip_requests_per_minute):
            await limiter.hit((by_ip[0],))
        async with client(app, ip) as c:
            assert (await c.get(f"/s/{'x' * 70}")).status_code == 429
        async with client(app, fresh_ip()) as c:
            assert (await c.get(f"/s/{'x' * 70}")).status_code == 404
    finally:
        await r.aclose()


# --- schedule: reminders, periodic ----------------------------------------------------------------


async def test_reminders_go_once_to_non_responders(
    db: Database, wb: World, keys: TenantKeys, settings: Settings
) -> None:
    days = settings.surveys.reminder_after_days
    old = datetime.now(UTC) - timedelta(days=days + 1)
    waiting, token = await _sent_send(db, wb, keys, settings, now=old)
    answered, answered_token = await _sent_send(db, wb, keys, settings, now=old)
    fresh, _ = await _sent_send(db, wb, keys, settings)
    opened = await responses.open_link(db, keys, answered_token)
    await responses.submit(
        db, opened, answered_token, {"overall": 5, "recommend": 10}, None, ip=None
    )
    cipher = await keys.cipher(db, wb.t.ref.id)
    for _ in range(2):
        async with unit_of_work(db.tenant(wb.t.ref), NullDispatcher()) as session:
            await sending.scan(session, wb.t.ref, cipher, settings.surveys)
    async with db.tenant(wb.t.ref).read() as session:
        reminders = list(
            (
                await session.execute(
                    select(MailOutbox).where(MailOutbox.event_key.like("survey.remind:%"))
                )
            ).scalars()
        )
    assert [m.event_key for m in reminders] == [f"survey.remind:{waiting.id}"]
    assert reminders[0].template == "survey_reminder" and token in reminders[0].context["link"]
    rows = {s.id: s for s in await _sends(db, wb)}
    assert rows[waiting.id].reminded_at is not None
    assert rows[fresh.id].reminded_at is None and rows[answered.id].reminded_at is None


async def test_periodic_template_sends_each_reachable_customer_once_a_period(
    db: Database, settings: Settings, keys: TenantKeys
) -> None:
    w = await _world(db, "svy-periodic")
    async with unit_of_work(db.tenant(w.t.ref), NullDispatcher()) as session:
        await templates.create(
            session,
            w.t.admin,
            {
                "name": "季度回访",
                "kind": "csat",
                "trigger": "periodic",
                "period_days": 90,
                "questions": QUESTIONS[:1],
            },
        )
    cipher = await keys.cipher(db, w.t.ref.id)
    for _ in range(2):
        async with unit_of_work(db.tenant(w.t.ref), NullDispatcher()) as session:
            await sending.scan(session, w.t.ref, cipher, settings.surveys)
    sends = await _sends(db, w, trigger=sending.SurveyTrigger.periodic)
    # Two customers have an address; the third is not asked at all.
    assert sorted(s.customer_id for s in sends) == sorted(w.customers[:2])
    assert {s.status for s in sends} == {SurveySendStatus.sent}


# --- GraphQL: sendSurvey, lists, stats, isolation ---------------------------------------------------

SEND = """
mutation($t: ID!, $c: [ID!]!) { sendSurvey(templateId: $t, customerIds: $c) {
  sends { id status email customer { name } template { name } } skipped errors { field code message } } }"""
SENDS = """
query($f: SurveySendFilter) { surveySends(first: 50, filter: $f) {
  totalCount edges { node { id status sourceKind email customer { id } } } } }"""
RESPONSES = """
query { surveyResponses(first: 50) { totalCount edges { node { csat nps sendId } }
  aggregates(fields: ["csat"]) { field sum avg } } }"""
STATS = """
query($g: SurveyStatsGroupBy!, $f: SurveyStatsFilter) { surveyStats(groupBy: $g, filter: $f) {
  key label responses csatCount csatAverage satisfiedPercent npsCount promoters detractors nps } }"""


async def test_send_survey_mutation_is_bounded_scoped_and_sends_once_a_day(
    db: Database, wa: World, wb: World, gql_as: Any
) -> None:
    gql = await gql_as(wa.t.admin_email, "svy-alpha")
    t = to_global_id("SurveyTemplate", wa.templates["manual"])
    cust = [to_global_id("Customer", c) for c in wa.customers]
    out = (await gql(SEND, {"t": t, "c": cust}))["sendSurvey"]
    assert out["errors"] == []
    by_status = sorted(s["status"] for s in out["sends"])
    assert by_status == ["FAILED", "SENT", "SENT"]  # the third customer has no address
    again = (await gql(SEND, {"t": t, "c": cust[:1]}))["sendSurvey"]
    assert again["sends"] == [] and again["skipped"] == cust[:1]
    too_many = (await gql(SEND, {"t": t, "c": cust[:1] * 201}))["sendSurvey"]
    assert too_many["errors"][0]["code"] == "LIMIT_EXCEEDED"
    # B's customer (and B's template) do not exist for A.
    foreign = await gql(SEND, {"t": t, "c": [to_global_id("Customer", wb.customers[0])]})
    assert [e["code"] for e in foreign["sendSurvey"]["errors"]] == ["NOT_FOUND"]
    assert foreign["sendSurvey"]["errors"][0]["field"] == "customerIds.0"
    b_template = to_global_id("SurveyTemplate", wb.templates["manual"])
    foreign_t = (await gql(SEND, {"t": b_template, "c": cust[:1]}))["sendSurvey"]
    assert [e["code"] for e in foreign_t["errors"]] == ["NOT_FOUND"]
    # Sales reps may not send nor read results.
    rep = await gql_as(wa.t.sales_email, "svy-alpha")
    denied = await rep.post(SEND, {"t": t, "c": cust[:1]})
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = await rep.post(SENDS, {})
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_stats_roll_up_per_product_agent_customer_and_month(
    db: Database, keys: TenantKeys, settings: Settings, gql_as: Any
) -> None:
    w = await _world(db, "svy-stats")
    other = w.t.sales.user_id
    plan = [  # (product, agent, csat, nps)
        ("X1", w.t.admin.user_id, 5, 10),
        ("X1", w.t.admin.user_id, 4, 9),
        ("X1", other, 2, 3),
        ("Y2", other, 1, 6),
    ]
    for product, agent, csat, nps in plan:
        _, token = await _sent_send(db, w, keys, settings, product=product, agent=agent)
        opened = await responses.open_link(db, keys, token)
        state, _ = await responses.submit(
            db, opened, token, {"overall": csat, "recommend": nps}, None, ip="10.2.2.2"
        )
        assert state.value == "open"
    _, _unanswered = await _sent_send(db, w, keys, settings, product="Z9")  # no response: no stats
    gql = await gql_as(w.t.admin_email, "svy-stats")
    rows = (await gql(STATS, {"g": "PRODUCT"}))["surveyStats"]
    assert rows == [
        {"key": "X1", "label": "X1", "responses": 3, "csatCount": 3, "csatAverage": 3.67,
         "satisfiedPercent": 66.7, "npsCount": 3, "promoters": 2, "detractors": 1, "nps": 33.3},
        {"key": "Y2", "label": "Y2", "responses": 1, "csatCount": 1, "csatAverage": 1.0,
         "satisfiedPercent": 0.0, "npsCount": 1, "promoters": 0, "detractors": 1, "nps": -100.0},
    ]  # fmt: skip
    agents = {r["label"]: r for r in (await gql(STATS, {"g": "AGENT"}))["surveyStats"]}
    assert agents["Admin"]["responses"] == 2 and agents["Admin"]["nps"] == 100.0
    assert agents["李娜"]["csatAverage"] == 1.5 and agents["李娜"]["nps"] == -100.0
    assert agents["Admin"]["key"] == to_global_id("User", w.t.admin.user_id)
    (cust,) = (await gql(STATS, {"g": "CUSTOMER"}))["surveyStats"]
    assert (
        cust["label"] == "明辉贸易" and cust["responses"] == 4 and cust["satisfiedPercent"] == 50.0
    )
    (month,) = (await gql(STATS, {"g": "MONTH"}))["surveyStats"]
    assert re.fullmatch(r"\d{4}-\d{2}", month["key"]) and month["responses"] == 4
    none = await gql(STATS, {"g": "PRODUCT", "f": {"submittedTo": "2000-01-01T00:00:00Z"}})
    assert none["surveyStats"] == []
    listed = (await gql(RESPONSES))["surveyResponses"]
    assert listed["totalCount"] == 4
    assert Decimal(str(listed["aggregates"][0]["sum"])) == 12


async def test_two_tenants_see_only_their_own_sends_responses_and_stats(
    db: Database, wa: World, wb: World, keys: TenantKeys, settings: Settings, gql_as: Any
) -> None:
    await _sent_send(db, wa, keys, settings)
    await _sent_send(db, wb, keys, settings)
    for w, slug in ((wa, "svy-alpha"), (wb, "svy-bravo")):
        gql = await gql_as(w.t.admin_email, slug)
        sends = (await gql(SENDS))["surveySends"]
        own = {s.id for s in await _sends(db, w)}
        listed = {e["node"]["id"] for e in sends["edges"]}
        assert sends["totalCount"] == len(own) > 0
        assert listed == {to_global_id("SurveySend", i) for i in own}
        other = wb if w is wa else wa
        foreign = to_global_id("Customer", other.customers[0])
        filtered = await gql(SENDS, {"f": {"customer": {"eq": foreign}}})
        assert filtered["surveySends"]["totalCount"] == 0
        async with db.tenant(w.t.ref).read() as session:
            n = await session.scalar(select(func.count()).select_from(SurveyResponse))
        assert (await gql(RESPONSES))["surveyResponses"]["totalCount"] == n
        stats = (await gql(STATS, {"g": "CUSTOMER"}))["surveyStats"]
        assert all(r["key"] in {to_global_id("Customer", c) for c in w.customers} for r in stats)


async def test_answer_validation_reports_every_field() -> None:
    from crm_core.surveys.answers import validate

    with pytest.raises(DomainError) as exc:
        validate(QUESTIONS, {"overall": True, "recommend": "10", "why": "x" * 2001})
    assert {(e.field, e.code.value) for e in exc.value.errors} == {
        ("answers.overall", "INVALID"),
        ("answers.why", "TOO_LONG"),
    }
    ok = validate(QUESTIONS, {"overall": "5", "recommend": "0", "why": " fine "})
    assert (ok.csat, ok.nps, ok.answers["why"]) == (5, 0, "fine")


class _Runtime:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self._db = db
        self.dispatcher = NullDispatcher()

    async def database(self) -> Database:
        return self._db


async def test_invitation_actor_is_idempotent_and_stays_in_its_tenant(
    db: Database, wa: World, wb: World, settings: Settings
) -> None:
    from crm_core.surveys.tasks import issue_invitation

    ticket = await _ticket(db, wa, wa.customers[1], "actor")
    await _resolve(db, wa, ticket)
    (send,) = await _sends(db, wa, ticket_id=ticket)
    runtime = _Runtime(settings, db)
    # A message naming A's send but run for tenant B touches nothing (B has no such send).
    await issue_invitation(tdb=db.tenant(wb.t.ref), runtime=runtime, send_id=str(send.id))
    assert (await _sends(db, wa, ticket_id=ticket))[0].status is SurveySendStatus.queued
    for _ in range(2):  # delivered twice: one invitation
        await issue_invitation(tdb=db.tenant(wa.t.ref), runtime=runtime, send_id=str(send.id))
    await issue_invitation(tdb=db.tenant(wa.t.ref), runtime=runtime, send_id="not-a-uuid")
    (row,) = await _sends(db, wa, ticket_id=ticket)
    assert row.status is SurveySendStatus.sent
    async with db.tenant(wa.t.ref).read() as session:
        n = await session.scalar(
            select(func.count())
            .select_from(MailOutbox)
            .where(MailOutbox.event_key == f"survey.invite:{send.id}")
        )
    assert n == 1
    assert [m.actor_name for m in runtime.dispatcher.sent] == ["mail.send_mail"]
