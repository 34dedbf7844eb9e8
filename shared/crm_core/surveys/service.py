"""Survey template use cases: questions validated item by item; a CSAT template asks a CSAT
question and an NPS one an NPS question; a periodic template has a period and no other has; only
one active template per trigger (the database holds it too, with a partial unique index)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.surveys import repository
from crm_core.surveys.models import (
    QuestionKind,
    SurveyKind,
    SurveyLanguage,
    SurveyTemplate,
    SurveyTrigger,
)
from crm_core.surveys.schemas import Question, SurveyTemplateFields, stored
from crm_core.validation import parse

WHAT = "survey"
REQUIRED = ("name", "kind", "trigger", "questions")
NOT_NULL = (*REQUIRED, "language", "active")
# The question a template of each kind must ask.
NEEDS: dict[SurveyKind, QuestionKind] = {
    SurveyKind.csat: QuestionKind.csat,
    SurveyKind.nps: QuestionKind.nps,
}


def _fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Question] | None]:
    parsed = parse(SurveyTemplateFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("name") is not None:
        fields["name"] = normalize.clean_text(fields["name"])
    if fields.get("intro") is not None:
        fields["intro"] = normalize.clean_multiline(fields["intro"])
    questions = fields.pop("questions", None)
    if questions is not None:
        fields["questions"] = stored(questions)
    return fields, questions


def _check(state: Mapping[str, Any], questions: Sequence[Mapping[str, Any]]) -> None:
    """The rules across fields, all reported at once."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q["key"] in seen:
            errors.append(FieldError(f"questions.{i}.key", ErrorCode.DUPLICATE, "keys must differ"))
        seen.add(q["key"])
    needed = NEEDS.get(state["kind"])
    if needed is not None and not any(q["kind"] == needed.value for q in questions):
        errors.append(
            FieldError(
                "questions",
                ErrorCode.INVALID,
                f"a {state['kind'].value} survey asks at least one {needed.value} question",
            )
        )
    periodic = state["trigger"] is SurveyTrigger.periodic
    if periodic and state["period_days"] is None:
        errors.append(FieldError("period_days", ErrorCode.REQUIRED, "a periodic survey needs it"))
    if not periodic and state["period_days"] is not None:
        errors.append(
            FieldError("period_days", ErrorCode.INVALID, "only periodic surveys have a period")
        )
    if errors:
        raise DomainError(errors)


async def _one_active(
    session: AsyncSession, state: Mapping[str, Any], exclude: uuid.UUID | None, field: str
) -> None:
    if state["active"] and await repository.active_for(session, state["trigger"], exclude=exclude):
        raise DomainError.one(
            field, ErrorCode.DUPLICATE, "another active template has this trigger; deactivate it"
        )


async def _flush(session: AsyncSession, field: str = "active") -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent writer activated one between check and write
        if "uq_survey_templates_active_trigger" in str(exc.orig):
            raise DomainError.one(
                field, ErrorCode.DUPLICATE, "another active template has this trigger"
            ) from None
        raise


async def create(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any]
) -> SurveyTemplate:
    fields, _ = _fields(data)
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in REQUIRED if not fields.get(f)]
    if missing:
        raise DomainError(missing)
    fields = {k: v for k, v in fields.items() if v is not None}
    fields.setdefault("language", SurveyLanguage.zh)
    fields.setdefault("active", True)
    state = {n: fields.get(n) for n in ("kind", "trigger", "period_days", "active")}
    _check(state, fields["questions"])
    await _one_active(session, state, None, "active")
    row = SurveyTemplate(**fields, created_by=principal.user_id, updated_by=principal.user_id)
    session.add(row)
    await _flush(session)
    audit.record(session, principal, "create", WHAT, row.id, audit.snapshot(row))
    return row


async def create_many(
    session: AsyncSession, principal: Principal, items: Sequence[Mapping[str, Any]]
) -> list[SurveyTemplate]:
    """All or nothing: an error in item ``i`` names ``{i}.field``."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create(session, principal, item))
        except DomainError as exc:
            raise DomainError(
                [
                    FieldError(f"{i}.{e.field}" if e.field else str(i), e.code, e.message)
                    for e in exc.errors
                ]
            ) from None
    return out


async def update(
    session: AsyncSession,
    principal: Principal,
    template_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> SurveyTemplate:
    """Questions are replaced as a whole list. The rules are checked on the template as it will be."""
    fields, _ = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and (fields[f] is None or fields[f] == [])
    ]
    if cleared:
        raise DomainError(cleared)
    row = await records.get_for_write(session, SurveyTemplate, template_id, expected_version, WHAT)
    if fields.get("trigger") not in (None, SurveyTrigger.periodic) and "period_days" not in fields:
        fields["period_days"] = None  # leaving the periodic trigger drops the period
    state = {
        n: fields.get(n, getattr(row, n)) for n in ("kind", "trigger", "period_days", "active")
    }
    _check(state, fields.get("questions", row.questions))
    field = "active" if "active" in fields else "trigger"
    await _one_active(session, state, row.id, field)
    return await records.apply_update(
        session, principal, row, fields, WHAT, flush=lambda s: _flush(s, field)
    )


async def restore(
    session: AsyncSession, principal: Principal, template_id: uuid.UUID
) -> SurveyTemplate:
    """An active template comes back only while no other is active for its trigger."""
    row = await repository.get(session, template_id, include_deleted=True)
    if row is None:
        raise NotFound("id", WHAT)
    if row.deleted_at is not None:
        await _one_active(session, {"active": row.active, "trigger": row.trigger}, row.id, "active")
    return await records.restore(session, principal, SurveyTemplate, template_id, WHAT)


_lifecycle = records.Lifecycle(SurveyTemplate, WHAT)
soft_delete = _lifecycle.soft_delete
destroy = _lifecycle.destroy
