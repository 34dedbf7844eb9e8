"""Tag queries (tenant-bound sessions only). The catalogue is the whole tenant's: every member
sees every live tag; counts of tagged customers follow the viewer's data scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate
from crm_core.tags.models import Tag


def live() -> ColumnElement[bool]:
    return Tag.deleted_at.is_(None)


async def get(
    session: AsyncSession, tag_id: uuid.UUID, *, include_deleted: bool = False
) -> Tag | None:
    return await records.get(session, Tag, tag_id, include_deleted=include_deleted)


async def get_many(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Tag]:
    return await records.get_many(session, Tag, ids)


async def get_by_name(
    session: AsyncSession, name: str, *, exclude: uuid.UUID | None = None
) -> Tag | None:
    """The live tag with this name, ignoring case (the unique index's rule)."""
    stmt = select(Tag).where(func.lower(Tag.name) == name.lower(), live())
    if exclude is not None:
        stmt = stmt.where(Tag.id != exclude)
    return (await session.execute(stmt)).scalars().first()


async def get_by_names(session: AsyncSession, names: Sequence[str]) -> Sequence[Tag]:
    """Live tags among ``names``, ignoring case (a customer's free-text "vip" meets "VIP")."""
    lowered = sorted({n.lower() for n in names})
    return (
        (await session.execute(select(Tag).where(func.lower(Tag.name).in_(lowered), live())))
        .scalars()
        .all()
    )


def base_select(*, include_deleted: bool, search: str | None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [true()]
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(Tag.name, search))
    return select(Tag).where(and_(*conditions))


def tagged(name: str) -> ColumnElement[bool]:
    """Customers carrying the tag (``tags @> ARRAY[name]``, which a GIN index on tags serves)."""
    return Customer.tags.op("@>")(array([name]))


async def customer_counts(
    session: AsyncSession, names: Sequence[str], *, scope: DataScope | None
) -> dict[str, int]:
    """Live customers in ``scope`` per tag name, for many tags in one statement."""
    if not names:
        return {}
    element = func.unnest(Customer.tags).table_valued("name")
    stmt = (
        select(element.c.name, func.count())
        .select_from(Customer)
        .join(element, true())
        .where(
            Customer.tags.op("&&")(array(list(names))),
            customers_repo.live(),
            customers_repo.visible(scope),
            element.c.name.in_(list(names)),
        )
        .group_by(element.c.name)
    )
    return {name: count for name, count in (await session.execute(stmt)).all()}
