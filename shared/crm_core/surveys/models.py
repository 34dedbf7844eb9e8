"""Satisfaction surveys (客户满意度调查): templates (what a survey asks and when it is sent), sends
(one invitation to one customer, with its single-use link) and responses (at most one per send)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    column,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, TimestampMixin, str_enum


class SurveyKind(enum.StrEnum):
    csat = "csat"
    nps = "nps"
    mixed = "mixed"


class SurveyLanguage(enum.StrEnum):
    zh = "zh"
    en = "en"


class SurveyTrigger(enum.StrEnum):
    manual = "manual"
    ticket_resolved = "ticket_resolved"
    complaint_closed = "complaint_closed"
    periodic = "periodic"


class QuestionKind(enum.StrEnum):
    csat = "csat"  # 1–5
    nps = "nps"  # 0–10
    text = "text"
    single_choice = "single_choice"


class SurveyTemplate(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "survey_templates"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[SurveyKind] = mapped_column(str_enum(SurveyKind, "survey_kind"), nullable=False)
    language: Mapped[SurveyLanguage] = mapped_column(
        str_enum(SurveyLanguage, "survey_language"), nullable=False
    )
    trigger: Mapped[SurveyTrigger] = mapped_column(
        str_enum(SurveyTrigger, "survey_trigger"), nullable=False
    )
    period_days: Mapped[int | None] = mapped_column(Integer)
    intro: Mapped[str | None] = mapped_column(Text)
    # [{"key": "overall", "kind": "csat", "text": "…", "required": true, "options": null}, …],
    # validated by crm_core.surveys.schemas before it is stored.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    __table_args__ = (
        CheckConstraint(
            "(trigger = 'periodic') = (period_days IS NOT NULL)", name="period_days_iff_periodic"
        ),
        CheckConstraint(
            "period_days IS NULL OR period_days BETWEEN 1 AND 3650", name="period_days_range"
        ),
        # One active template per trigger: what a ticket's resolution or a period sends is never
        # ambiguous. Also what the sender will look up.
        Index(
            "uq_survey_templates_active_trigger",
            "trigger",
            unique=True,
            postgresql_where=column("active").is_(True) & column("deleted_at").is_(None),
        ),
        # The default list order, and "created" orderings.
        Index("ix_survey_templates_name", "name"),
        Index("ix_survey_templates_created_at_id", "created_at", "id"),
    )


class SurveySourceKind(enum.StrEnum):
    ticket = "ticket"  # a service ticket was resolved
    complaint = "complaint"  # a complaint was closed
    periodic = "periodic"  # the tenant's schedule
    manual = "manual"  # someone sent it (sendSurvey)


class SurveySendStatus(enum.StrEnum):
    queued = "queued"  # written with its cause; the invitation is not minted yet
    sent = "sent"  # the invitation (with its link) is in the mail outbox
    responded = "responded"  # the customer answered: the link is spent
    expired = "expired"  # the link ran out unanswered
    failed = "failed"  # nothing to send to (no e-mail address, template gone): see ``error``


class SurveySend(IdMixin, TimestampMixin, TenantBase):
    """One invitation of one customer to one survey.

    ``source_key`` names the event that caused it (``ticket:<id>``, ``complaint:<id>``,
    ``periodic:<customer>:<period>``, ``manual:<customer>:<day>``); with the template it is unique,
    so an event sends once however often it happens (a ticket resolved, reopened, resolved again;
    a retried message). Only a hash of the link's token is kept (``token_hash``).
    """

    __tablename__ = "survey_sends"

    template_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("survey_templates.id", ondelete="CASCADE"), nullable=False
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    trigger: Mapped[SurveyTrigger] = mapped_column(
        str_enum(SurveyTrigger, "survey_trigger"), nullable=False
    )
    source_kind: Mapped[SurveySourceKind] = mapped_column(
        str_enum(SurveySourceKind, "survey_source_kind"), nullable=False
    )
    source_key: Mapped[str] = mapped_column(String(120), nullable=False)
    # The record behind it (for the roll-ups by product and agent); destroying it keeps the send.
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("service_tickets.id", ondelete="SET NULL")
    )
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("complaints.id", ondelete="SET NULL")
    )
    status: Mapped[SurveySendStatus] = mapped_column(
        str_enum(SurveySendStatus, "survey_send_status"),
        nullable=False,
        default=SurveySendStatus.queued,
    )
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        UniqueConstraint("template_id", "source_key"),
        UniqueConstraint("token_hash"),
        CheckConstraint(
            "(status = 'responded') = (responded_at IS NOT NULL)", name="responded_at_iff_status"
        ),
        CheckConstraint(
            "status IN ('queued', 'failed') OR (token_hash IS NOT NULL AND expires_at IS NOT NULL"
            " AND sent_at IS NOT NULL)",
            name="link_once_sent",
        ),
        Index("ix_survey_sends_created_at_id", "created_at", "id"),
        Index("ix_survey_sends_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_survey_sends_ticket_id", "ticket_id"),
        Index("ix_survey_sends_complaint_id", "complaint_id"),
        # What the schedule scans: sends awaiting an answer (reminders, expiry).
        Index(
            "ix_survey_sends_awaiting",
            "sent_at",
            postgresql_where=column("status") == "sent",
        ),
    )


class SurveyResponse(IdMixin, TenantBase):
    """A customer's answers to one send (``send_id`` unique: at most one response per send).

    ``csat`` and ``nps`` are the first CSAT and NPS answers, copied out of ``answers`` so the
    roll-ups read columns; ``ip_hash`` is a keyed hash of the client address (abuse analysis
    without keeping the address)."""

    __tablename__ = "survey_responses"

    send_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("survey_sends.id", ondelete="CASCADE"), nullable=False
    )
    template_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("survey_templates.id", ondelete="CASCADE"), nullable=False
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    ip_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("send_id"),
        CheckConstraint("csat IS NULL OR csat BETWEEN 1 AND 5", name="csat_range"),
        CheckConstraint("nps IS NULL OR nps BETWEEN 0 AND 10", name="nps_range"),
        Index("ix_survey_responses_submitted_at_id", "submitted_at", "id"),
        Index("ix_survey_responses_customer_id", "customer_id"),
        Index("ix_survey_responses_template_id", "template_id"),
    )
