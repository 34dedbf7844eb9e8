"""The SurveyTemplate type (a satisfaction survey: what it asks, and when it is sent)."""

from __future__ import annotations

import datetime
from typing import Any

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.relay import Node, to_global_id
from crm_core.surveys.models import SurveyTemplate as M

FIELDS: dict[str, Col] = {
    "name": Col(M.name, sortable=True),
    "kind": Col(M.kind, E.SurveyKindEnum),
    "language": Col(M.language, E.SurveyLanguageEnum),
    "trigger": Col(M.trigger, E.SurveyTriggerEnum),
    "period_days": Col(M.period_days, filterable=False),
    "intro": Col(M.intro, filterable=False),
    "active": Col(M.active),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
HIDDEN: dict[str, Col] = {"id": Col(M.id, sortable=True)}
# The questions column is JSON, read whole (never filtered or sorted on).
QUESTIONS = Col(M.questions, filterable=False)


@strawberry.type(description="One question of a survey.")
class SurveyQuestion:
    key: str = strawberry.field(description="Stable name of the question in responses.")
    kind: E.SurveyQuestionKindEnum = strawberry.field(
        description="CSAT (1–5), NPS (0–10), free text, or one of `options`."
    )
    text: str
    required: bool
    options: list[str] | None

    @classmethod
    def from_stored(cls, q: dict[str, Any]) -> SurveyQuestion:
        return cls(
            key=q["key"],
            kind=E.SurveyQuestionKindEnum(q["kind"]),
            text=q["text"],
            required=bool(q.get("required", True)),
            options=q.get("options"),
        )


@strawberry.type(description="A satisfaction survey template (客户满意度调查).")
class SurveyTemplate(Node):
    name: str
    kind: E.SurveyKindEnum
    language: E.SurveyLanguageEnum
    trigger: E.SurveyTriggerEnum = strawberry.field(
        description="What sends it; one active template per trigger."
    )
    period_days: int | None = strawberry.field(description="Days between sends, when PERIODIC.")
    intro: str | None
    questions: list[SurveyQuestion]
    active: bool
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None

    @classmethod
    def from_model(cls, row: M) -> SurveyTemplate:
        return cls(
            id=strawberry.ID(to_global_id("SurveyTemplate", row.id)),
            questions=[SurveyQuestion.from_stored(q) for q in getattr(row, QUESTIONS.column.key)],
            **read_fields(row, FIELDS),
        )
