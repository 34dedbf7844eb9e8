"""Satisfaction survey templates (客户满意度调查): what a survey asks and when it is sent.
Sends and responses come later."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text, column
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


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
