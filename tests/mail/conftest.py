"""Fixtures of the mail tests: a real SMTP server (aiosmtpd) that keeps every message, page
clients with their own client address (the public pages rate-limit per IP), and delivery of a
tenant's queued mail through the real sender."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from smtptest import Mailbox, smtp_server
from sqlalchemy import select

from crm_core.db.engine import Database
from crm_core.mail import sender
from crm_core.mail.models import MailOutbox, MailStatus
from crm_core.mail.unsubscribe import Signer
from crm_core.messaging.outbox import NullDispatcher
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantKeys
from crm_core.settings import MailSettings, Settings
from crm_core.tenancy import TenantRef


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with smtp_server(box) as port:
        yield box, port


@pytest.fixture(scope="session")
def mail_settings(smtp: tuple[Mailbox, int], settings: Settings) -> MailSettings:
    return settings.mail.model_copy(update={"host": "127.0.0.1", "port": smtp[1]})


@pytest.fixture(scope="session")
def keys(settings: Settings) -> TenantKeys:
    # The gateway's own master key (same settings, same data dir): its links verify here.
    return TenantKeys(load_master_key(settings))


_ips = itertools.count(1)


@pytest.fixture
def page(app: Any) -> httpx.AsyncClient:
    """A client of the public pages from an address of its own (its own rate-limit window)."""
    n = next(_ips)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(f"10.77.{n // 250}.{n % 250 + 1}", 40_000)),
        base_url="http://test",
    )


class MailKit:
    """Deliver a tenant's queued mail through the real sender (the worker's ``mail.send_mail``
    path, its unsubscribe signer included) and read what the SMTP server got."""

    def __init__(self, db: Database, cfg: MailSettings, keys: TenantKeys, box: Mailbox) -> None:
        self.db, self.cfg, self.keys, self.box = db, cfg, keys, box

    async def queued(self, tenant: TenantRef, prefix: str = "") -> list[MailOutbox]:
        async with self.db.tenant(tenant).read() as session:
            stmt = select(MailOutbox).where(MailOutbox.event_key.startswith(prefix))
            return list((await session.execute(stmt.order_by(MailOutbox.created_at))).scalars())

    async def deliver_all(
        self, tenant: TenantRef, prefix: str = ""
    ) -> dict[str, MailStatus | None]:
        signer = Signer(await self.keys.cipher(self.db, tenant.id), self.cfg.unsubscribe_url)
        out: dict[str, MailStatus | None] = {}
        for row in await self.queued(tenant, prefix):
            if row.status is MailStatus.queued:
                out[row.event_key] = await sender.deliver(
                    self.db.tenant(tenant), NullDispatcher(), self.cfg, row.id, signer=signer
                )
        return out

    @staticmethod
    def text(msg: EmailMessage) -> str:
        part = msg.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()  # type: ignore[no-any-return]

    @staticmethod
    def html(msg: EmailMessage) -> str:
        part = msg.get_body(preferencelist=("html",))
        assert part is not None
        return part.get_content()  # type: ignore[no-any-return]

    @classmethod
    def link_in(cls, msg: EmailMessage, pattern: str) -> str:
        found = re.search(pattern, cls.text(msg))
        assert found, cls.text(msg)
        return found.group(0)


@pytest.fixture(scope="session")
def kit(
    db: Database, mail_settings: MailSettings, keys: TenantKeys, smtp: tuple[Mailbox, int]
) -> MailKit:
    return MailKit(db, mail_settings, keys, smtp[0])
