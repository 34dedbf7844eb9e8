"""Contact queries (tenant-bound sessions only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm_core.contacts.models import Contact
from crm_core.query.search import search_predicate

PER_CUSTOMER_LIMIT = 100


def live() -> ColumnElement[bool]:
    return Contact.deleted_at.is_(None)


async def get(
    session: AsyncSession, contact_id: uuid.UUID, *, include_deleted: bool = False
) -> Contact | None:
    stmt = select(Contact).where(Contact.id == contact_id)
    if not include_deleted:
        stmt = stmt.where(live())
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_many(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Contact]:
    return (
        (await session.execute(select(Contact).where(Contact.id.in_(ids), live()))).scalars().all()
    )


async def by_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, limit: int = PER_CUSTOMER_LIMIT
) -> dict[uuid.UUID, list[Contact]]:
    """Live contacts of many customers in one statement, primary first, at most ``limit`` each."""
    ranked = (
        select(
            Contact,
            func.row_number()
            .over(
                partition_by=Contact.customer_id,
                order_by=(Contact.is_primary.desc(), Contact.created_at, Contact.id),
            )
            .label("rn"),
        )
        .where(Contact.customer_id.in_(customer_ids), live())
        .subquery()
    )
    row = aliased(Contact, ranked)
    stmt = select(row).where(ranked.c.rn <= limit).order_by(ranked.c.customer_id, ranked.c.rn)
    grouped: dict[uuid.UUID, list[Contact]] = {cid: [] for cid in customer_ids}
    for contact in (await session.execute(stmt)).scalars():
        grouped[contact.customer_id].append(contact)
    return grouped


def base_select(*, include_deleted: bool, search: str | None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(Contact.search_text, search))
    return select(Contact).where(and_(*conditions)) if conditions else select(Contact)
