"""E-mail through a real SMTP server (aiosmtpd): one row and one Message-ID per event, a sender
killed between the SMTP accept and the mark, bounces and opt-outs, the notification scan."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jobhelpers import FAST_JOBS
from smtptest import smtp_server
from sqlalchemy import select

from crm_core.db.engine import Database
from crm_core.followups.models import FollowUp, FollowUpStatus
from crm_core.mail import events, sender
from crm_core.mail.models import MailOutbox, MailStatus, SuppressionReason
from crm_core.mail.outbox import queue_mail, suppress
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.settings import MailSettings, Settings

pytestmark = pytest.mark.slow


class Recorder:
    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []  # (message id, event key, recipient)
        self.kill_pid: int | None = None
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append((msg["Message-ID"], msg["X-CRM-Event"], envelope.rcpt_tos[0]))
            pid, self.kill_pid = self.kill_pid, None
        if pid is not None:
            # The server has the mail; the sender dies before it hears 250 and marks the row.
            os.kill(pid, signal.SIGKILL)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        yield recorder, port


async def _rows(db: Database, tenant: Any) -> list[MailOutbox]:
    async with db.tenant(tenant).read() as session:
        return list((await session.execute(select(MailOutbox))).scalars())


async def _queue(db: Database, tenant: Any, dispatcher: Any, keys: list[str], to: str) -> None:
    async with unit_of_work(db.tenant(tenant), dispatcher) as session:
        for key in keys:
            await queue_mail(
                session,
                tenant,
                event_key=key,
                to=to,
                template="job_ended",
                context={"kind": "jobs.selftest", "job_id": key, "status": "failed", "error": "x"},
                locale="zh-CN",
            )


async def test_kill_9_between_smtp_accept_and_mark_gives_one_message_id_per_event(
    db: Database, settings: Settings, spawn: Any, redis_namespace: str, smtp: Any
) -> None:
    from crmtest import make_tenant

    recorder, port = smtp
    tenant = (await make_tenant(db, "mail-kill")).ref
    ns = f"{redis_namespace}-mail"
    env = {**FAST_JOBS, "CRM_MAIL__PORT": str(port), "CRM_MAIL__HOST": "127.0.0.1"}
    spawn("crm_worker.scheduler", ns, **env)
    worker = spawn("crm_worker", ns, **env)
    worker.wait_for("worker started")
    recorder.kill_pid = worker.proc.pid
    broker = build_broker(settings, namespace=ns)
    keys = [f"kill-test:{i}" for i in range(5)]
    try:
        await _queue(db, tenant, BrokerDispatcher(broker), keys, "ops@example.cn")
        worker.proc.wait(timeout=30)  # killed by the SMTP server at the first DATA
        worker = spawn("crm_worker", ns, **env)
        worker.wait_for("worker started")
        deadline = time.monotonic() + 60
        while any(r.status is not MailStatus.sent for r in await _rows(db, tenant)):
            assert time.monotonic() < deadline, [
                (r.event_key, r.status) for r in await _rows(db, tenant)
            ]
            await asyncio.sleep(0.2)
    finally:
        broker.close()
    by_event: dict[str, list[str]] = {}
    for message_id, event, _ in recorder.received:
        # The scheduler of this test scans every tenant of the session's database: follow-ups
        # other tests left due may be mailed through the same server too. Only ours count here.
        if event in keys:
            by_event.setdefault(event, []).append(message_id)
    assert sorted(by_event) == keys  # every event delivered
    # Exactly one distinct Message-ID per event, whatever the number of SMTP transactions.
    assert all(len(set(ids)) == 1 for ids in by_event.values())
    assert len({ids[0] for ids in by_event.values()}) == len(keys)
    # The honest part: a mail whose sender died inside the window (the server had it, the row was
    # not yet marked) went out twice, with the same Message-ID. Only mails in flight at the kill
    # can be in that window: at most one per worker thread; every other event went out once.
    twice = [event for event, ids in by_event.items() if len(ids) == 2]
    assert all(len(ids) <= 2 for ids in by_event.values())
    assert 1 <= len(twice) <= int(FAST_JOBS["CRM_WORKER__THREADS"]), by_event
    attempts = {r.event_key: r.attempts for r in await _rows(db, tenant)}
    assert all(attempts[event] >= len(ids) for event, ids in by_event.items())


async def test_one_row_per_event_bounces_and_opt_outs_are_honoured(db: Database, smtp: Any) -> None:
    from crmtest import make_tenant

    recorder, port = smtp
    tenant = (await make_tenant(db, "mail-rules")).ref
    tdb = db.tenant(tenant)
    cfg = MailSettings(port=port)
    sink = NullDispatcher()
    await _queue(db, tenant, sink, ["e:1", "e:1", "e:2"], "a@example.cn")  # e:1 twice → one row
    recorder.refuse.add("gone@example.cn")
    await _queue(db, tenant, sink, ["e:3", "e:4"], "gone@example.cn")
    async with tdb.transaction() as session:
        await suppress(session, "quiet@example.cn", SuppressionReason.opt_out)
    await _queue(db, tenant, sink, ["e:5"], "quiet@example.cn")
    async with unit_of_work(tdb, sink) as session:
        await queue_mail(
            session, tenant, event_key="e:6", to="quiet@example.cn", template="password_reset",
            context={"link": "http://x/#token=t", "minutes": 30}, locale="en", transactional=True,
        )  # fmt: skip
    rows = {r.event_key: r for r in await _rows(db, tenant)}
    assert sorted(rows) == ["e:1", "e:2", "e:3", "e:4", "e:5", "e:6"]
    outcome = {}
    for key in ["e:1", "e:2", "e:3", "e:4", "e:5", "e:6", "e:1"]:
        outcome.setdefault(key, await sender.deliver(tdb, sink, cfg, rows[key].id))
    assert outcome == {
        "e:1": MailStatus.sent,
        "e:2": MailStatus.sent,
        "e:3": MailStatus.bounced,  # 550: recorded, and the address is suppressed from now on
        "e:4": MailStatus.suppressed,
        "e:5": MailStatus.suppressed,  # opted out
        "e:6": MailStatus.sent,  # transactional: the opt-out does not stop a password reset
    }
    assert sorted(e for _, e, _ in recorder.received) == ["e:1", "e:2", "e:6"]


async def test_notification_scan_mails_a_due_follow_up_once(
    db: Database, tenant_a: Any, tenant_b: Any
) -> None:
    from crm_core.customers import service as customers

    now = datetime.now(UTC)
    lookalikes = {}
    for key, tenant in (("a", tenant_a), ("b", tenant_b)):
        async with unit_of_work(db.tenant(tenant.ref), NullDispatcher()) as session:
            data = {"code": "C-MAIL-1", "name": "上海明辉贸易有限公司", "kind": "company"}
            lookalikes[key] = (await customers.create(session, tenant.admin, data)).id
    for key, tenant in (("a", tenant_a), ("b", tenant_b)):
        async with db.tenant(tenant.ref).transaction() as session:
            session.add(
                FollowUp(
                    customer_id=lookalikes[key],
                    owner_id=tenant.sales.user_id,
                    scheduled_at=now + timedelta(hours=1),
                    remind_at=now - timedelta(minutes=1),
                    status=FollowUpStatus.planned,
                    content=f"call {key}",
                )
            )
    for _ in range(2):  # a second scan finds the event already mailed
        async with unit_of_work(db.tenant(tenant_a.ref), NullDispatcher()) as session:
            await events.scan(session, tenant_a.ref)
    due = [r for r in await _rows(db, tenant_a.ref) if r.event_key.startswith("followup.due:")]
    assert len(due) == 1 and due[0].to_address == tenant_a.sales_email
    assert due[0].context["content"] == "call a" and due[0].locale == "zh"
    # Tenant B's follow-up is B's business: the scan of A queued nothing for it.
    assert not [r for r in await _rows(db, tenant_b.ref) if r.event_key.startswith("followup")]
