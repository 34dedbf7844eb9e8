"""E-mails/s to a local SMTP server (aiosmtpd, in this process's own thread): N mails queued in
the outbox, then delivered by ``crm_core.mail.sender.deliver`` (claim → render → SMTP → mark), one
SMTP connection per mail, with C deliveries in flight.

    .venv/bin/python bench/mail.py [N] [concurrency]
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import scratch_database

from crm_core.mail import sender
from crm_core.mail.models import MailStatus
from crm_core.mail.outbox import queue_mail
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.settings import MailSettings
from crm_core.tenancy import TenantRef
from crm_core.tenants import service as tenants


class Counter:
    def __init__(self) -> None:
        self.n = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.n += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        for port in range(23_000, 32_000, 13):
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


async def main(n: int, concurrency: int) -> None:
    from aiosmtpd.controller import Controller

    counter, port = Counter(), free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with scratch_database() as (_, db):
            tenant, _ = await tenants.create(
                db, tenants.TenantInput(slug="bench-mail", name="Bench")
            )
            ref = TenantRef(tenant.id, tenant.slug)
            tdb = db.tenant(ref)
            sink = NullDispatcher()
            started = time.perf_counter()
            ids = []
            async with unit_of_work(tdb, sink) as session:
                for i in range(n):
                    mail_id = await queue_mail(
                        session,
                        ref,
                        event_key=f"bench:{i}",
                        to=f"user{i % 50}@example.cn",
                        template="followup_due",
                        context={
                            "customer": "上海明辉贸易有限公司",
                            "scheduled_at": "2026-12-01 10:00",
                            "content": "",
                        },
                        locale="zh-CN",
                    )
                    ids.append(mail_id)
            queued = time.perf_counter() - started
            cfg = MailSettings(port=port)
            gate = asyncio.Semaphore(concurrency)

            async def one(mail_id: Any) -> MailStatus | None:
                async with gate:
                    return await sender.deliver(tdb, sink, cfg, mail_id)

            started = time.perf_counter()
            results = await asyncio.gather(*(one(i) for i in ids))
            sent = time.perf_counter() - started
        assert all(r is MailStatus.sent for r in results)
        assert counter.n == n
        print(f"mails: {n}, concurrency: {concurrency}, SMTP: aiosmtpd on 127.0.0.1:{port}")
        print(f"queue (outbox rows, one transaction): {n / queued:,.0f} mails/s")
        print(f"deliver (claim, render zh HTML+text, SMTP, mark sent): {n / sent:,.0f} mails/s")
    finally:
        controller.stop()


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    conc = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    asyncio.run(main(count, conc))
