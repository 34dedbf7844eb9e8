"""Mail tables (tenant schema): the mail outbox and the addresses that must not be mailed.

``mail_outbox.event_key`` is unique: the event that causes a mail (``followup.due:<id>``,
``contract.expiring:<id>:7``) can queue it any number of times and one row, so one mail, results.
The row's ``status`` walks queued → sending → sent; ``sending`` is written and committed before the
SMTP transaction and ``sent`` after it, so a sender killed in between leaves ``sending`` behind and
the mail is sent again with the same ``Message-ID`` (see ``crm_core.mail.sender``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, column, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import IdMixin, TenantBase, str_enum


class MailStatus(enum.StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # gave up after the retries (temporary failures every time)
    bounced = "bounced"  # the server refused the recipient for good (5xx)
    suppressed = "suppressed"  # the address opted out or bounced before: not sent


class SuppressionReason(enum.StrEnum):
    opt_out = "opt_out"
    bounce = "bounce"


class MailOutbox(IdMixin, TenantBase):
    __tablename__ = "mail_outbox"

    event_key: Mapped[str] = mapped_column(String(200), nullable=False)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    template: Mapped[str] = mapped_column(String(60), nullable=False)
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # Transactional mails (password reset) ignore opt-outs; bounces stop every mail.
    transactional: Mapped[bool] = mapped_column(nullable=False, default=False)
    # Derived from the tenant and the event key: the same on every (re)send of this mail.
    message_id: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[MailStatus] = mapped_column(
        str_enum(MailStatus, "mail_status"), nullable=False, default=MailStatus.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    sending_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("event_key"),
        Index(
            "ix_mail_outbox_pending",
            "status",
            "sending_at",
            postgresql_where=column("status").in_(["queued", "sending"]),
        ),
        Index("ix_mail_outbox_created_at_id", "created_at", "id"),
    )


class MailSuppression(IdMixin, TenantBase):
    """An address that opted out of notifications, or whose mail bounced for good."""

    __tablename__ = "mail_suppressions"

    address: Mapped[str] = mapped_column(String(254), nullable=False)
    reason: Mapped[SuppressionReason] = mapped_column(
        str_enum(SuppressionReason, "suppression_reason"), nullable=False
    )
    detail: Mapped[str | None] = mapped_column(Text)
    bounces: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (UniqueConstraint("address", "reason"),)
