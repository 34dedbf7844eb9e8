"""The Dramatiq broker, built from settings (never at import time), and the gateway's dispatcher.

Recovery settings: a worker killed with ``kill -9`` leaves its prefetched messages in its Redis
ack set until another worker's maintenance run notices the dead heartbeat. Dramatiq's defaults
(60 s heartbeat timeout, maintenance on ~1 in 1,000 fetches) can strand them for many minutes; we
use a short heartbeat timeout and maintain often, and cap prefetch to what the threads can hold.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from crm_core.messaging.outbox import OutgoingMessage
from crm_core.messaging.tracing import TraceMiddleware
from crm_core.settings import Settings


def build_broker(
    settings: Settings, *, url: str | None = None, namespace: str | None = None
) -> RedisBroker:
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=url or settings.require_redis_url(),
        namespace=namespace or settings.worker.namespace,
        heartbeat_timeout=settings.worker.heartbeat_timeout_ms,
        dead_message_ttl=settings.worker.dead_message_ttl_ms,
        # Dramatiq counts this per million commands (default 1,000): 50,000 is 1 in 20, so a dead
        # worker's messages return soon after its heartbeat times out.
        maintenance_chance=50_000,
    )
    broker.add_middleware(AsyncIO())
    broker.add_middleware(TraceMiddleware())
    return broker


class BrokerDispatcher:
    """Sends outbox messages through the broker, by actor name: the sender needs no actor code."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    def send(self, message: OutgoingMessage) -> None:
        options: dict[str, Any] = {}  # the trace context is added by TraceMiddleware on enqueue
        self._broker.enqueue(
            dramatiq.Message(
                queue_name=message.queue_name,
                actor_name=message.actor_name,
                args=(),
                kwargs=message.kwargs,
                options=options,
            ),
            delay=message.delay_ms,
        )
