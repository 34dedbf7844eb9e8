"""Survey template queries (tenant-bound sessions only). Templates are company configuration:
every member reads them, whatever their data scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers import repository as customers_repo
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate
from crm_core.surveys.models import SurveyResponse, SurveyTemplate, SurveyTrigger


def live() -> ColumnElement[bool]:
    return SurveyTemplate.deleted_at.is_(None)


async def get(
    session: AsyncSession, template_id: uuid.UUID, *, include_deleted: bool = False
) -> SurveyTemplate | None:
    return await records.get(session, SurveyTemplate, template_id, include_deleted=include_deleted)


async def get_many(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[SurveyTemplate]:
    return await records.get_many(session, SurveyTemplate, ids)


async def active_for(
    session: AsyncSession, trigger: SurveyTrigger, *, exclude: uuid.UUID | None = None
) -> SurveyTemplate | None:
    """The live active template for a trigger (what a send will use)."""
    stmt = select(SurveyTemplate).where(
        SurveyTemplate.trigger == trigger, SurveyTemplate.active.is_(True), live()
    )
    if exclude is not None:
        stmt = stmt.where(SurveyTemplate.id != exclude)
    return (await session.execute(stmt)).scalars().first()


def base_select(*, include_deleted: bool, search: str | None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(SurveyTemplate.name, search))
    return select(SurveyTemplate).where(*conditions)


async def responses_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None
) -> Sequence[SurveyResponse]:
    """Responses of live customers in the scope (None: the whole tenant)."""
    stmt = select(SurveyResponse).where(
        SurveyResponse.id.in_(ids),
        SurveyResponse.customer_id.in_(customers_repo.visible_ids(scope)),
    )
    return (await session.execute(stmt)).scalars().all()
