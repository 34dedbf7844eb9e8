"""The durable outbox (tenant schema): a row per message, written in the transaction that causes it.

After commit the writer sends the message and marks the row sent (the fast path). If the process
dies between commit and send, the scheduler's relay finds the row still unsent a few seconds later
and sends it. Delivery is therefore at least once; every actor is idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, column, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import TenantBase


class OutboxMessage(TenantBase):
    __tablename__ = "outbox"

    # A sequence, not a UUID: the relay sends in commit-ish order and pages by it.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    actor_name: Mapped[str] = mapped_column(String(120), nullable=False)
    queue_name: Mapped[str] = mapped_column(String(80), nullable=False)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # Deliver no earlier than this (a retry's backoff); None: at once.
    deliver_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    send_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_outbox_unsent", "id", postgresql_where=column("sent_at").is_(None)),
        Index("ix_outbox_sent_at", "sent_at", postgresql_where=column("sent_at").is_not(None)),
    )
