"""Messages caused by a write are sent only after that write commits, and never lost.

Services call ``defer(session, ...)``: it adds a row to the tenant's durable ``outbox`` table in the
caller's transaction. ``unit_of_work`` commits, then hands the messages to a ``Dispatcher`` (the
fast path) and marks their rows sent once the broker has accepted them. A process that dies between
commit and send leaves the rows unsent; the scheduler's relay (``relay_pending``) sends them a few
seconds later. A rolled-back change leaves no row, so no message. Delivery is at least once (a
crash between the broker's accept and the mark sends again): every actor is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import TenantDatabase
from crm_core.messaging.models import OutboxMessage

log = logging.getLogger(__name__)

_KEY = "crm.outbox"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    actor_name: str
    queue_name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    # The durable row behind the message (marked sent once the broker accepts it), if any.
    outbox_id: int | None = None
    # Deliver no earlier than this many milliseconds from now (a retry's backoff).
    delay_ms: int | None = None


class Dispatcher(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class NullDispatcher:
    """For tools that write without workers (the seeding of demo data, imports in tests)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


def defer(
    session: AsyncSession,
    actor_name: str,
    queue_name: str,
    *,
    deliver_at: datetime | None = None,
    **kwargs: Any,
) -> None:
    """Send ``actor_name(**kwargs, tenant_id=…)`` once the session's transaction commits.

    The outbox row is flushed with the transaction: if it rolls back, nothing is sent."""
    tenant = session.info.get("tenant")
    if tenant is None:
        raise RuntimeError("deferred messages need a tenant-bound session")
    safe = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in kwargs.items()}
    safe["tenant_id"] = str(tenant.id)
    row = OutboxMessage(
        actor_name=actor_name,
        queue_name=queue_name,
        kwargs=safe,
        deliver_at=deliver_at,
        send_attempts=0,
    )
    session.add(row)
    session.info.setdefault(_KEY, []).append(row)


def _outgoing(row: OutboxMessage, now: datetime) -> OutgoingMessage:
    delay = None
    if row.deliver_at is not None and row.deliver_at > now:
        delay = int((row.deliver_at - now).total_seconds() * 1000)
    return OutgoingMessage(
        row.actor_name, row.queue_name, dict(row.kwargs), outbox_id=row.id, delay_ms=delay
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def unit_of_work(tdb: TenantDatabase, dispatcher: Dispatcher) -> AsyncIterator[AsyncSession]:
    async with tdb.session() as session:
        async with session.begin():
            yield session
        rows: list[OutboxMessage] = session.info.pop(_KEY, [])
    if rows:
        await send_committed(tdb, dispatcher, rows)


async def send_committed(
    tdb: TenantDatabase, dispatcher: Dispatcher, rows: list[OutboxMessage]
) -> None:
    """The fast path: send committed outbox rows now and mark the ones the broker accepted.

    A failure here is not the writer's failure (its change is committed): the relay retries."""
    now = _utcnow()
    messages = [_outgoing(row, now) for row in rows]
    try:
        # The broker client blocks; keep the event loop free while it talks to Redis.
        sent = await asyncio.to_thread(_send_all, dispatcher, messages)
    except Exception:  # pragma: no cover - _send_all catches per message
        log.exception("outbox: fast-path send failed; the relay will retry")
        return
    if sent:
        try:
            async with tdb.transaction() as session:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent), OutboxMessage.sent_at.is_(None))
                    .values(sent_at=func.now(), send_attempts=OutboxMessage.send_attempts + 1)
                )
        except Exception:
            # Unmarked rows are sent again by the relay: a duplicate, which actors absorb.
            log.warning("outbox: could not mark %d sent messages", len(sent), exc_info=True)


def _send_all(dispatcher: Dispatcher, messages: list[OutgoingMessage]) -> list[int]:
    """Send each message; returns the outbox ids the broker accepted (the others stay unsent)."""
    accepted = []
    for message in messages:
        try:
            dispatcher.send(message)
        except Exception:
            log.warning("outbox: send of %s failed; the relay will retry", message.actor_name)
            continue
        if message.outbox_id is not None:
            accepted.append(message.outbox_id)
    return accepted


# The relay leaves rows this young to the fast path of the transaction that wrote them.
RELAY_AFTER_SECONDS = 5.0
RELAY_CHUNK = 500
# Sent rows are kept this long (to look into a delivery question), then purged by the relay.
KEEP_SENT = timedelta(days=1)


async def relay_pending(
    tdb: TenantDatabase,
    dispatcher: Dispatcher,
    *,
    older_than_seconds: float = RELAY_AFTER_SECONDS,
    chunk: int = RELAY_CHUNK,
) -> int:
    """Send one chunk of the tenant's outbox rows still unsent after ``older_than_seconds``.

    Rows are locked (``SKIP LOCKED``) while they are sent, so two relays never send the same row
    at once. Returns how many were sent; call again while it returns ``chunk``."""
    cutoff = _utcnow() - timedelta(seconds=older_than_seconds)
    async with tdb.transaction() as session:
        rows = list(
            (
                await session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < cutoff)
                    .order_by(OutboxMessage.id)
                    .limit(chunk)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return 0
        now = _utcnow()
        sent = set(
            await asyncio.to_thread(_send_all, dispatcher, [_outgoing(r, now) for r in rows])
        )
        for row in rows:
            row.send_attempts += 1
            if row.id in sent:
                row.sent_at = now
            else:
                row.last_error = "broker refused or unreachable"
    if len(sent) < len(rows):
        log.warning("outbox relay: %d of %d messages not sent", len(rows) - len(sent), len(rows))
    return len(sent)


async def purge_sent(
    tdb: TenantDatabase, *, keep: timedelta = KEEP_SENT, chunk: int = 5_000
) -> int:
    async with tdb.transaction() as session:
        ids = (
            select(OutboxMessage.id)
            .where(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < _utcnow() - keep)
            .limit(chunk)
        )
        result = await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)
