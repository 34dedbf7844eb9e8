"""Contact queries (tenant-bound sessions only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.contacts.models import Contact
from crm_core.customers import repository as customers_repo
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate

PER_CUSTOMER_LIMIT = 100


def live() -> ColumnElement[bool]:
    return Contact.deleted_at.is_(None)


def visible(scope: DataScope | None) -> ColumnElement[bool]:
    """A contact is visible while its customer is live and in the scope."""
    return Contact.customer_id.in_(customers_repo.visible_ids(scope))


async def get(
    session: AsyncSession,
    contact_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    scope: DataScope | None = None,
) -> Contact | None:
    return await records.get(
        session, Contact, contact_id, include_deleted=include_deleted, visible=visible(scope)
    )


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[Contact]:
    return await records.get_many(session, Contact, ids, visible=visible(scope))


async def by_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, limit: int = PER_CUSTOMER_LIMIT
) -> dict[uuid.UUID, list[Contact]]:
    """Live contacts of many customers in one statement, primary first, at most ``limit`` each."""
    return await records.by_parents(
        session,
        Contact,
        Contact.customer_id,
        customer_ids,
        order_by=(Contact.is_primary.desc(), Contact.created_at, Contact.id),
        limit=limit,
    )


def base_select(
    *,
    include_deleted: bool,
    search: str | None,
    scope: DataScope | None = None,
    personal_data: bool = True,
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [visible(scope)]
    if not include_deleted:
        conditions.append(live())
    if search:
        column = Contact.search_text if personal_data else Contact.search_public
        conditions.append(search_predicate(column, search))
    return select(Contact).where(and_(*conditions))
