"""Mail actors: deliver one queued mail; scan a tenant for time-based notification events."""

from __future__ import annotations

import logging
import uuid

from crm_core.db.engine import TenantDatabase
from crm_core.mail import events, sender
from crm_core.mail.outbox import QUEUE, SEND_MAIL
from crm_core.mail.unsubscribe import Signer
from crm_core.messaging.actors import WorkerRuntime, tenant_actor
from crm_core.messaging.outbox import defer, unit_of_work
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantKeys
from crm_core.settings import Settings

log = logging.getLogger(__name__)

SCAN_EVENTS = "mail.scan_events"
# Continuations of one scan per period (a tenant with a huge backlog is paced, not unbounded).
MAX_SCAN_ROUNDS = 20
# Unwrapped tenant keys, per process and settings object (made on first use, never at import).
_keys: dict[int, TenantKeys] = {}


def _tenant_keys(settings: Settings) -> TenantKeys:
    store = _keys.get(id(settings))
    if store is None:
        store = _keys[id(settings)] = TenantKeys(load_master_key(settings))
    return store


@tenant_actor(SEND_MAIL, queue_name=QUEUE, max_retries=10, min_backoff_ms=2_000)
async def send_mail(*, tdb: TenantDatabase, runtime: WorkerRuntime, mail_id: str) -> None:
    try:
        mid = uuid.UUID(str(mail_id))
    except ValueError:
        log.error("mail: ignoring malformed mail_id %r", mail_id)
        return
    settings = runtime.settings
    cipher = await _tenant_keys(settings).cipher(await runtime.database(), tdb.tenant.id)
    signer = Signer(cipher, settings.mail.unsubscribe_url)
    await sender.deliver(tdb, runtime.dispatcher, settings.mail, mid, signer=signer)


@tenant_actor(SCAN_EVENTS, queue_name=QUEUE, max_retries=3)
async def scan_events(*, tdb: TenantDatabase, runtime: WorkerRuntime, round: int = 0) -> None:
    async with unit_of_work(tdb, runtime.dispatcher) as session:
        result = await events.scan(session, tdb.tenant)
        if result.more and round + 1 < MAX_SCAN_ROUNDS:
            defer(session, SCAN_EVENTS, QUEUE, round=round + 1)
    if result.queued:
        log.info("notifications: %d mails queued", result.queued)
