"""Evaluation use cases.

Criteria are company configuration (written with ``settings:manage``): a weighted list of what a
relationship is judged on. An evaluation scores a live, visible customer on some of the active
criteria; its total is the weighted mean of the scores given, and its recommendation follows the
total and the company's thresholds unless a person chose one. Scores are written as a whole list,
and the total and recommendation are recomputed in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.evaluations import repository
from crm_core.evaluations.models import (
    EvaluationCriterion,
    EvaluationScore,
    Recommendation,
    RelationshipEvaluation,
)
from crm_core.evaluations.schemas import CriterionFields, EvaluationFields, ScoreFields
from crm_core.identity.principal import Principal
from crm_core.tenants.repository import settings_of, timezone_of
from crm_core.validation import parse

WHAT = "evaluation"
CRITERION = "evaluation_criterion"

# Recommendation thresholds on the total (0–100). A tenant overrides them in
# ``settings["evaluation_thresholds"]`` ({"develop": 80, "end": 30}); a malformed or inconsistent
# override (end above develop) is ignored.
THRESHOLDS_SETTING = "evaluation_thresholds"
DEFAULT_THRESHOLDS = {"develop": Decimal(75), "end": Decimal(40)}
CENT = Decimal("0.01")


def thresholds(tenant_settings: Mapping[str, Any]) -> dict[str, Decimal]:
    out = dict(DEFAULT_THRESHOLDS)
    configured = tenant_settings.get(THRESHOLDS_SETTING)
    if isinstance(configured, Mapping):
        for key in out:
            value = configured.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
                out[key] = Decimal(str(value))
    if out["end"] > out["develop"]:
        return dict(DEFAULT_THRESHOLDS)
    return out


def recommend(total: Decimal, limits: Mapping[str, Decimal]) -> Recommendation:
    """develop at or above ``develop``; end below ``end``; maintain in between."""
    if total >= limits["develop"]:
        return Recommendation.develop
    if total < limits["end"]:
        return Recommendation.end
    return Recommendation.maintain


def weighted_total(pairs: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    """Weighted mean of (score, weight) pairs, to the cent."""
    weights = sum((w for _, w in pairs), Decimal(0))
    total = sum((s * w for s, w in pairs), Decimal(0)) / weights
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


# --- criteria ----------------------------------------------------------------------------------


def _criterion_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(CriterionFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("name") is not None:
        fields["name"] = normalize.clean_text(fields["name"])
    if fields.get("description") is not None:
        fields["description"] = normalize.clean_multiline(fields["description"])
    return fields


async def _unique_name(
    session: AsyncSession, name: str | None, exclude: uuid.UUID | None = None
) -> None:
    if name and await repository.criterion_by_name(session, name, exclude=exclude) is not None:
        raise DomainError.one("name", ErrorCode.DUPLICATE, "another criterion has this name")


async def _flush_criterion(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent writer took the name between check and write
        if "uq_evaluation_criteria_live_name" in str(exc.orig):
            raise DomainError.one(
                "name", ErrorCode.DUPLICATE, "another criterion has this name"
            ) from None
        raise


async def create_criterion(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any]
) -> EvaluationCriterion:
    fields = _criterion_fields(data)
    missing = [
        FieldError(f, ErrorCode.REQUIRED, "required")
        for f in ("name", "weight")
        if fields.get(f) is None or fields.get(f) == ""
    ]
    if missing:
        raise DomainError(missing)
    fields = {k: v for k, v in fields.items() if v is not None}
    await _unique_name(session, fields["name"])
    row = EvaluationCriterion(**fields, created_by=principal.user_id, updated_by=principal.user_id)
    session.add(row)
    await _flush_criterion(session)
    audit.record(session, principal, "create", CRITERION, row.id, audit.snapshot(row))
    return row


async def create_criteria(
    session: AsyncSession, principal: Principal, items: Sequence[Mapping[str, Any]]
) -> list[EvaluationCriterion]:
    """All or nothing: an error in item ``i`` names ``{i}.field``."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create_criterion(session, principal, item))
        except DomainError as exc:
            raise _prefixed(exc, str(i)) from None
    return out


async def update_criterion(
    session: AsyncSession,
    principal: Principal,
    criterion_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> EvaluationCriterion:
    """A new weight applies to evaluations written from now on; stored totals keep theirs."""
    fields = _criterion_fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in ("name", "weight", "position", "active")
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    row = await records.get_for_write(
        session, EvaluationCriterion, criterion_id, expected_version, CRITERION
    )
    await _unique_name(session, fields.get("name"), exclude=row.id)
    return await records.apply_update(
        session, principal, row, fields, CRITERION, flush=_flush_criterion
    )


async def soft_delete_criterion(
    session: AsyncSession,
    principal: Principal,
    criterion_id: uuid.UUID,
    *,
    expected_version: int | None,
) -> EvaluationCriterion:
    return await records.soft_delete(
        session,
        principal,
        EvaluationCriterion,
        criterion_id,
        expected_version=expected_version,
        what=CRITERION,
    )


async def restore_criterion(
    session: AsyncSession, principal: Principal, criterion_id: uuid.UUID
) -> EvaluationCriterion:
    row = await repository.get_criterion(session, criterion_id, include_deleted=True)
    if row is not None and row.deleted_at is not None:
        await _unique_name(session, row.name, exclude=row.id)
    return await records.restore(session, principal, EvaluationCriterion, criterion_id, CRITERION)


async def destroy_criterion(
    session: AsyncSession, principal: Principal, criterion_id: uuid.UUID
) -> uuid.UUID:
    """Only a criterion no evaluation used: scores must stay explainable (deactivate it)."""
    used = await session.scalar(
        select(exists().where(EvaluationScore.criterion_id == criterion_id))
    )
    if used:
        raise DomainError.one(
            "id", ErrorCode.CONFLICT, "evaluations scored this criterion; deactivate it instead"
        )
    return await records.destroy(session, principal, EvaluationCriterion, criterion_id, CRITERION)


# --- evaluations -------------------------------------------------------------------------------


def _evaluation_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(EvaluationFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("notes") is not None:
        fields["notes"] = normalize.clean_multiline(fields["notes"])
    return fields


async def _checked_scores(
    session: AsyncSession, scores: Sequence[ScoreFields]
) -> list[tuple[ScoreFields, EvaluationCriterion]]:
    """Each score on a live, active criterion of this tenant (the tenant's schema holds only its
    own), at most once; every bad item is named (``scores.2.criterion_id``)."""
    ids = [s.criterion_id for s in scores]
    found = {c.id: c for c in await repository.get_criteria(session, ids)}
    errors: list[FieldError] = []
    seen: set[uuid.UUID] = set()
    for i, item in enumerate(scores):
        criterion = found.get(item.criterion_id)
        field = f"scores.{i}.criterion_id"
        if criterion is None:
            errors.append(FieldError(field, ErrorCode.NOT_FOUND, "criterion not found"))
        elif not criterion.active:
            errors.append(FieldError(field, ErrorCode.INVALID, "this criterion is not active"))
        elif item.criterion_id in seen:
            errors.append(FieldError(field, ErrorCode.DUPLICATE, "criterion scored twice"))
        seen.add(item.criterion_id)
    if errors:
        raise DomainError(errors)
    return [(item, found[item.criterion_id]) for item in scores]


async def _write_scores(
    session: AsyncSession,
    evaluation: RelationshipEvaluation,
    scored: Sequence[tuple[ScoreFields, EvaluationCriterion]],
) -> list[dict[str, Any]]:
    """Replace the evaluation's scores; what the audit entry says about them."""
    await session.execute(
        delete(EvaluationScore).where(EvaluationScore.evaluation_id == evaluation.id)
    )
    out = []
    for item, criterion in scored:
        session.add(
            EvaluationScore(
                evaluation_id=evaluation.id,
                criterion_id=criterion.id,
                score=item.score,
                weight=criterion.weight,
                comment=normalize.clean_multiline(item.comment) if item.comment else None,
            )
        )
        out.append(
            {
                "criterion_id": str(criterion.id),
                "score": str(item.score),
                "weight": str(criterion.weight),
            }
        )
    return out


async def _today(session: AsyncSession, principal: Principal) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(await timezone_of(session, principal.tenant.id))).date()


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> RelationshipEvaluation:
    fields = _evaluation_fields(data)
    if not fields.get("scores"):
        raise DomainError.one("scores", ErrorCode.REQUIRED, "score at least one criterion")
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    scored = await _checked_scores(session, fields.pop("scores"))
    if fields.get("evaluator_id") is None:
        fields["evaluator_id"] = principal.user_id
    await records.check_member(session, principal, fields["evaluator_id"], "evaluator_id")
    if fields.get("evaluated_on") is None:
        fields["evaluated_on"] = await _today(session, principal)
    total = weighted_total([(s.score, c.weight) for s, c in scored])
    manual = fields.get("recommendation") is not None
    if not manual:
        limits = thresholds(await settings_of(session, principal.tenant.id))
        fields["recommendation"] = recommend(total, limits)
    row = RelationshipEvaluation(
        customer_id=customer_id,
        **fields,
        total_score=total,
        recommendation_manual=manual,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    written = await _write_scores(session, row, scored)
    await session.flush()
    audit.record(
        session, principal, "create", WHAT, row.id, audit.snapshot(row) | {"scores": written}
    )
    return row


async def update(
    session: AsyncSession,
    principal: Principal,
    evaluation_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> RelationshipEvaluation:
    """New scores replace the old list; the total is recomputed, and so is the recommendation
    unless a person chose it (an explicit null hands it back to the thresholds)."""
    fields = _evaluation_fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in ("evaluated_on", "evaluator_id", "scores")
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    row = await records.get_for_write(
        session,
        RelationshipEvaluation,
        evaluation_id,
        expected_version,
        WHAT,
        visible=_visible(principal),
    )
    if fields.get("evaluator_id") is not None:
        await records.check_member(session, principal, fields["evaluator_id"], "evaluator_id")
    extra: dict[str, Any] = {}
    if "scores" in fields:
        scored = await _checked_scores(session, fields.pop("scores"))
        fields["total_score"] = weighted_total([(s.score, c.weight) for s, c in scored])
        extra["scores"] = await _write_scores(session, row, scored)
    if "recommendation" in fields:
        fields["recommendation_manual"] = fields["recommendation"] is not None
        if fields["recommendation"] is None:
            del fields["recommendation"]
    manual = fields.get("recommendation_manual", row.recommendation_manual)
    if not manual and ("total_score" in fields or "recommendation_manual" in fields):
        limits = thresholds(await settings_of(session, principal.tenant.id))
        fields["recommendation"] = recommend(fields.get("total_score", row.total_score), limits)
    return await records.apply_update(session, principal, row, fields, WHAT, extra_changes=extra)


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


def _prefixed(exc: DomainError, prefix: str) -> DomainError:
    return DomainError(
        [
            FieldError(f"{prefix}.{e.field}" if e.field else prefix, e.code, e.message)
            for e in exc.errors
        ]
    )


_lifecycle = records.Lifecycle(RelationshipEvaluation, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
restore = _lifecycle.restore
# destroy: Hard delete, with its scores (cascade); the audit entry keeps the last values.
destroy = _lifecycle.destroy
