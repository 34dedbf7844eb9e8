"""Messages caused by a write are sent only after that write commits.

Services call ``defer(session, ...)``; ``unit_of_work`` commits and then hands the messages to a
``Dispatcher``. A crash between commit and send loses the message, never sends one for a rolled
back change; the periodic whole-tenant cleansing scan catches what a lost message would have done.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import TenantDatabase

_KEY = "crm.outbox"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    actor_name: str
    queue_name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


class Dispatcher(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class NullDispatcher:
    """For tools that write without workers (the seeding of demo data, imports in tests)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


def defer(session: AsyncSession, actor_name: str, queue_name: str, **kwargs: Any) -> None:
    tenant = session.info.get("tenant")
    if tenant is None:
        raise RuntimeError("deferred messages need a tenant-bound session")
    safe = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in kwargs.items()}
    safe["tenant_id"] = str(tenant.id)
    session.info.setdefault(_KEY, []).append(OutgoingMessage(actor_name, queue_name, safe))


@asynccontextmanager
async def unit_of_work(tdb: TenantDatabase, dispatcher: Dispatcher) -> AsyncIterator[AsyncSession]:
    async with tdb.session() as session:
        async with session.begin():
            yield session
        messages = session.info.pop(_KEY, [])
        if messages:
            # The broker client blocks; keep the event loop free while it talks to Redis.
            await asyncio.to_thread(_send_all, dispatcher, messages)


def _send_all(dispatcher: Dispatcher, messages: list[OutgoingMessage]) -> None:
    for message in messages:
        dispatcher.send(message)
