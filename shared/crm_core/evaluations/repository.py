"""Evaluation queries (tenant-bound sessions only). Evaluations hang off a customer and follow its
visibility; criteria are company configuration, visible to everyone who reads evaluations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers.children import PER_CUSTOMER_LIMIT, CustomerChildren
from crm_core.evaluations.models import EvaluationCriterion, EvaluationScore, RelationshipEvaluation
from crm_core.query.search import search_predicate

_children = CustomerChildren(
    RelationshipEvaluation,
    order_by=(
        RelationshipEvaluation.evaluated_on.desc(),
        RelationshipEvaluation.created_at.desc(),
        RelationshipEvaluation.id.desc(),
    ),
    search_column=RelationshipEvaluation.notes,
)

live = _children.live
visible = _children.visible
get = _children.get
get_many = _children.get_many
by_customers = _children.by_customers
base_select = _children.base_select


async def scores_by_evaluations(
    session: AsyncSession, evaluation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[EvaluationScore]]:
    """The scores of many evaluations in one statement, in their criteria's order."""
    stmt = (
        select(EvaluationScore)
        .join(EvaluationCriterion, EvaluationCriterion.id == EvaluationScore.criterion_id)
        .where(EvaluationScore.evaluation_id.in_(evaluation_ids))
        .order_by(EvaluationCriterion.position, EvaluationCriterion.name, EvaluationScore.id)
    )
    grouped: dict[uuid.UUID, list[EvaluationScore]] = {i: [] for i in evaluation_ids}
    for row in (await session.execute(stmt)).scalars():
        grouped[row.evaluation_id].append(row)
    return grouped


async def scores_of(session: AsyncSession, evaluation_id: uuid.UUID) -> list[EvaluationScore]:
    return (await scores_by_evaluations(session, [evaluation_id]))[evaluation_id]


def criterion_live() -> ColumnElement[bool]:
    return EvaluationCriterion.deleted_at.is_(None)


async def get_criterion(
    session: AsyncSession, criterion_id: uuid.UUID, *, include_deleted: bool = False
) -> EvaluationCriterion | None:
    return await records.get(
        session, EvaluationCriterion, criterion_id, include_deleted=include_deleted
    )


async def get_criteria(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, include_deleted: bool = False
) -> Sequence[EvaluationCriterion]:
    """Criteria among ``ids``; deleted ones too when asked (a score keeps naming its criterion)."""
    stmt = select(EvaluationCriterion).where(EvaluationCriterion.id.in_(ids))
    if not include_deleted:
        stmt = stmt.where(criterion_live())
    return (await session.execute(stmt)).scalars().all()


async def criterion_by_name(
    session: AsyncSession, name: str, *, exclude: uuid.UUID | None = None
) -> EvaluationCriterion | None:
    stmt = select(EvaluationCriterion).where(EvaluationCriterion.name == name, criterion_live())
    if exclude is not None:
        stmt = stmt.where(EvaluationCriterion.id != exclude)
    return (await session.execute(stmt)).scalars().first()


def criteria_select(*, include_deleted: bool, search: str | None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if not include_deleted:
        conditions.append(criterion_live())
    if search:
        conditions.append(search_predicate(EvaluationCriterion.name, search))
    return select(EvaluationCriterion).where(*conditions)


__all__ = [
    "PER_CUSTOMER_LIMIT",
    "base_select",
    "by_customers",
    "criteria_select",
    "get",
    "get_criteria",
    "get_criterion",
    "get_many",
    "live",
    "scores_by_evaluations",
    "visible",
]
