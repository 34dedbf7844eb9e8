"""Product queries (tenant-bound sessions only). The catalogue is the whole company's: no data
scope applies, every role that may read products reads all of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.products.models import Product
from crm_core.query.search import search_predicate


def live() -> ColumnElement[bool]:
    return Product.deleted_at.is_(None)


async def get(
    session: AsyncSession, product_id: uuid.UUID, *, include_deleted: bool = False
) -> Product | None:
    return await records.get(session, Product, product_id, include_deleted=include_deleted)


async def get_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, include_deleted: bool = False
) -> Sequence[Product]:
    """Products among ``ids``; ``include_deleted`` for lines that name a product since removed."""
    if include_deleted:
        return (await session.execute(select(Product).where(Product.id.in_(ids)))).scalars().all()
    return await records.get_many(session, Product, ids)


async def get_by_code(
    session: AsyncSession, code: str, *, exclude: uuid.UUID | None = None
) -> Product | None:
    """The live product with this code (uses uq_products_live_code)."""
    stmt = select(Product).where(Product.code == code, live())
    if exclude is not None:
        stmt = stmt.where(Product.id != exclude)
    return (await session.execute(stmt)).scalar_one_or_none()


def base_select(*, include_deleted: bool, search: str | None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if not include_deleted:
        conditions.append(live())
    if search:
        conditions.append(search_predicate(Product.search_text, search))
    return select(Product).where(and_(True, *conditions))
