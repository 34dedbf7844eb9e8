"""Customer queries. Every function takes a tenant-bound session: the schema is never in here.

``scope`` (the principal's data scope) narrows every lookup; None means the whole tenant, for
background work acting as the system.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers.models import Customer, customer_code_seq
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate


def live() -> ColumnElement[bool]:
    return Customer.deleted_at.is_(None)


def visible(scope: DataScope | None) -> ColumnElement[bool]:
    condition = scope.owner_condition(Customer.owner_id) if scope is not None else None
    return condition if condition is not None else true()


def visible_ids(scope: DataScope | None) -> Select[Any]:
    """Ids of the live customers a scope sees (for child records such as contacts)."""
    return select(Customer.id).where(live(), visible(scope))


async def get(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    scope: DataScope | None = None,
) -> Customer | None:
    return await records.get(
        session, Customer, customer_id, include_deleted=include_deleted, visible=visible(scope)
    )


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[Customer]:
    return await records.get_many(session, Customer, ids, visible=visible(scope))


async def get_by_code(session: AsyncSession, code: str) -> Customer | None:
    """Across the whole tenant: codes are unique whoever owns the record."""
    stmt = select(Customer).where(Customer.code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def next_code(session: AsyncSession) -> str:
    number = (await session.execute(select(customer_code_seq.next_value()))).scalar_one()
    return f"C-{number:06d}"


def base_select(
    *,
    include_deleted: bool,
    search: str | None,
    scope: DataScope | None = None,
    personal_data: bool = True,
) -> Select[Any]:
    """The list query before filters and paging. Without ``personal_data`` the search runs on
    the text that holds no phone or e-mail, so a search cannot confirm a masked value."""
    # Merge tombstones (crm_core.dedup) never show, not even among deleted customers.
    conditions: list[ColumnElement[bool]] = [visible(scope), Customer.merged_into_id.is_(None)]
    if not include_deleted:
        conditions.append(live())
    if search:
        column = Customer.search_text if personal_data else Customer.search_public
        conditions.append(search_predicate(column, search))
    return select(Customer).where(and_(*conditions))
