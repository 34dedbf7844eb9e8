"""Queries shared by every record that belongs to a customer (contacts, interactions, follow-ups,
complaints, tickets…): such a record is visible while its customer is live and inside the
principal's data scope, and a page of customers loads its children in one statement.

Each domain's ``repository.py`` makes one ``CustomerChildren`` and exposes its methods, so the
rule lives here once instead of in every repository.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.customers import repository as customers_repo
from crm_core.db.base import AuditedMixin
from crm_core.identity.principal import DataScope
from crm_core.query.search import search_predicate

R = TypeVar("R", bound=AuditedMixin)
PER_CUSTOMER_LIMIT = 100


class CustomerChildren(Generic[R]):
    def __init__(
        self,
        model: type[R],
        *,
        order_by: Sequence[Any],
        search_column: Any,
        public_search_column: Any | None = None,
    ) -> None:
        self.model = model
        self._table: Any = model
        self._order_by = tuple(order_by)
        self._search = search_column
        # Without the personal-data permission, search runs on text that holds none of it.
        self._public_search = (
            public_search_column if public_search_column is not None else search_column
        )

    def live(self) -> ColumnElement[bool]:
        return self._table.deleted_at.is_(None)  # type: ignore[no-any-return]

    def visible(self, scope: DataScope | None) -> ColumnElement[bool]:
        """Visible while its customer is live and in the scope (None: the whole tenant)."""
        return self._table.customer_id.in_(customers_repo.visible_ids(scope))  # type: ignore[no-any-return]

    async def get(
        self,
        session: AsyncSession,
        record_id: uuid.UUID,
        *,
        include_deleted: bool = False,
        scope: DataScope | None = None,
    ) -> R | None:
        return await records.get(
            session,
            self.model,
            record_id,
            include_deleted=include_deleted,
            visible=self.visible(scope),
        )

    async def get_many(
        self, session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
    ) -> Sequence[R]:
        return await records.get_many(session, self.model, ids, visible=self.visible(scope))

    async def by_customers(
        self,
        session: AsyncSession,
        customer_ids: Sequence[uuid.UUID],
        *,
        limit: int = PER_CUSTOMER_LIMIT,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> dict[uuid.UUID, list[R]]:
        """Live children of many customers in one statement, at most ``limit`` each."""
        return await records.by_parents(
            session,
            self.model,
            self._table.customer_id,
            customer_ids,
            order_by=self._order_by,
            limit=limit,
            where=where,
        )

    def base_select(
        self,
        *,
        include_deleted: bool,
        search: str | None,
        scope: DataScope | None = None,
        personal_data: bool = True,
    ) -> Select[Any]:
        conditions: list[ColumnElement[bool]] = [self.visible(scope)]
        if not include_deleted:
            conditions.append(self.live())
        if search:
            column = self._search if personal_data else self._public_search
            conditions.append(search_predicate(column, search))
        return select(self.model).where(and_(*conditions))
