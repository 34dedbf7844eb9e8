"""Customer queries. Every function takes a tenant-bound session: the schema is never in here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.customers.models import Customer, customer_code_seq
from crm_core.query.search import search_predicate


def live() -> ColumnElement[bool]:
    return Customer.deleted_at.is_(None)


async def get(
    session: AsyncSession, customer_id: uuid.UUID, *, include_deleted: bool = False
) -> Customer | None:
    stmt = select(Customer).where(Customer.id == customer_id)
    if not include_deleted:
        stmt = stmt.where(live())
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_many(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Customer]:
    return (
        (await session.execute(select(Customer).where(Customer.id.in_(ids), live())))
        .scalars()
        .all()
    )


async def get_by_code(session: AsyncSession, code: str) -> Customer | None:
    return (
        await session.execute(select(Customer).where(Customer.code == code))
    ).scalar_one_or_none()


async def next_code(session: AsyncSession) -> str:
    number = (await session.execute(select(customer_code_seq.next_value()))).scalar_one()
    return f"C-{number:06d}"


def base_select(*, include_deleted: bool, search: str | None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(Customer.search_text, search))
    return select(Customer).where(and_(*conditions)) if conditions else select(Customer)
