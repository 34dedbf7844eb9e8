"""Survey actors, and the scheduler's fan-out of the per-tenant survey scan.

* ``surveys.issue_invitation(send_id)``: a queued send (a resolved ticket, a closed complaint) gets
  its signed link and its invitation mail, in one transaction; a no-op once issued.
* ``surveys.scan_tenant(round)``: the tenant's schedule (expire, remind once, periodic sends); a
  round that fills its chunk sends the next round (paced, never unbounded).

The tenant's data key signs the links; the worker unwraps it with the master key, as the gateway
does (both must be configured with the same ``CRM_SECURITY__MASTER_KEY``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from redis.asyncio import Redis

from crm_core.db.engine import Database, TenantDatabase
from crm_core.messaging.actors import WorkerRuntime, tenant_actor
from crm_core.messaging.outbox import Dispatcher, OutgoingMessage, defer, unit_of_work
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantCipher, TenantKeys
from crm_core.settings import Settings
from crm_core.surveys import sending
from crm_core.surveys.sending import ISSUE_INVITATION, QUEUE, SCAN_TENANT
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import TenantStatus

log = logging.getLogger(__name__)

MAX_SCAN_ROUNDS = 20
_keys: dict[int, TenantKeys] = {}


async def tenant_cipher(settings: Settings, db: Database, tenant_id: uuid.UUID) -> TenantCipher:
    """The tenant's cipher; the unwrapped keys are cached per process (built on first use)."""
    store = _keys.get(id(settings))
    if store is None:
        store = _keys[id(settings)] = TenantKeys(load_master_key(settings))
    return await store.cipher(db, tenant_id)


@tenant_actor(ISSUE_INVITATION, queue_name=QUEUE, max_retries=8, min_backoff_ms=2_000)
async def issue_invitation(*, tdb: TenantDatabase, runtime: WorkerRuntime, send_id: str) -> None:
    try:
        sid = uuid.UUID(str(send_id))
    except ValueError:
        log.error("surveys: ignoring malformed send_id %r", send_id)
        return
    settings = runtime.settings
    cipher = await tenant_cipher(settings, await runtime.database(), tdb.tenant.id)
    async with unit_of_work(tdb, runtime.dispatcher) as session:
        await sending.issue_queued(session, tdb.tenant, cipher, sid, settings.surveys)


@tenant_actor(SCAN_TENANT, queue_name=QUEUE, max_retries=3)
async def scan_tenant(*, tdb: TenantDatabase, runtime: WorkerRuntime, round: int = 0) -> None:
    settings = runtime.settings
    cipher = await tenant_cipher(settings, await runtime.database(), tdb.tenant.id)
    async with unit_of_work(tdb, runtime.dispatcher) as session:
        result = await sending.scan(session, tdb.tenant, cipher, settings.surveys)
        if result.more and round + 1 < MAX_SCAN_ROUNDS:
            defer(session, SCAN_TENANT, QUEUE, round=round + 1)
    if result.expired or result.reminded or result.periodic:
        log.info(
            "surveys: %d expired, %d reminded, %d periodic sends",
            result.expired,
            result.reminded,
            result.periodic,
        )


async def fan_out(
    *,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    namespace: str,
    interval_seconds: int,
    now: float | None = None,
) -> int | None:
    """The scheduler's part: once per period (the first scheduler to claim the period's key in
    Redis) send each active tenant one ``surveys.scan_tenant``. Returns how many, or None when
    this period was already done."""
    period = int((time.time() if now is None else now) // interval_seconds)
    key = f"{namespace}:scheduler:surveys:{period}"
    if not await redis.set(key, "1", nx=True, px=interval_seconds * 1000 + 60_000):
        return None
    try:
        async with db.core_session() as session:
            rows = await tenants_repo.list_all(session)
        messages = [
            OutgoingMessage(SCAN_TENANT, QUEUE, {"tenant_id": str(t.id)})
            for t in rows
            if t.status is TenantStatus.active and t.provisioned_at is not None
        ]
        await asyncio.to_thread(_send_all, dispatcher, messages)
    except BaseException:
        await redis.delete(key)  # partly sent is fine (the scan is idempotent); a lost period not
        raise
    return len(messages)


def _send_all(dispatcher: Dispatcher, messages: list[OutgoingMessage]) -> None:
    for message in messages:
        dispatcher.send(message)
