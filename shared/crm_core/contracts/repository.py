"""Contract and delivery queries (tenant-bound sessions only). A contract follows the shared rules
for a customer's records; a delivery is visible while its contract is (live, on a live customer
inside the viewer's scope)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.contracts.models import Contract, ContractDelivery
from crm_core.customers.children import PER_CUSTOMER_LIMIT, CustomerChildren
from crm_core.identity.principal import DataScope

_children = CustomerChildren(
    Contract,
    order_by=(Contract.starts_on.desc(), Contract.id.desc()),
    search_column=Contract.search_text,
)

live = _children.live
visible = _children.visible
get = _children.get
get_many = _children.get_many
by_customers = _children.by_customers
base_select = _children.base_select

# At most this many deliveries per contract are listed under it (Contract.deliveries).
PER_CONTRACT_LIMIT = 200


def visible_ids(scope: DataScope | None) -> Select[Any]:
    """Ids of the live contracts a scope sees (for deliveries and orders)."""
    return select(Contract.id).where(live(), visible(scope))


async def number_taken(
    session: AsyncSession, number: str, *, other_than: uuid.UUID | None = None
) -> bool:
    """Across the whole tenant (whoever sees it): numbers are unique among live contracts."""
    stmt = select(Contract.id).where(Contract.number == number, live())
    if other_than is not None:
        stmt = stmt.where(Contract.id != other_than)
    return (await session.execute(stmt.limit(1))).first() is not None


def delivery_live() -> ColumnElement[bool]:
    return ContractDelivery.deleted_at.is_(None)


def delivery_visible(scope: DataScope | None) -> ColumnElement[bool]:
    return ContractDelivery.contract_id.in_(visible_ids(scope))


async def get_delivery(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    scope: DataScope | None = None,
) -> ContractDelivery | None:
    return await records.get(
        session,
        ContractDelivery,
        delivery_id,
        include_deleted=include_deleted,
        visible=delivery_visible(scope),
    )


async def get_deliveries(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, scope: DataScope | None = None
) -> Sequence[ContractDelivery]:
    return await records.get_many(session, ContractDelivery, ids, visible=delivery_visible(scope))


async def deliveries_by_contracts(
    session: AsyncSession, contract_ids: Sequence[uuid.UUID], *, limit: int = PER_CONTRACT_LIMIT
) -> dict[uuid.UUID, list[ContractDelivery]]:
    """Live deliveries of many contracts in one statement, earliest due first. Callers pass only
    contracts the viewer sees (the loader's parents come from scoped lookups)."""
    return await records.by_parents(
        session,
        ContractDelivery,
        ContractDelivery.contract_id,
        contract_ids,
        order_by=(ContractDelivery.due_on.asc(), ContractDelivery.id.asc()),
        limit=limit,
    )


def delivery_base_select(*, include_deleted: bool, scope: DataScope | None = None) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [delivery_visible(scope)]
    if not include_deleted:
        conditions.append(delivery_live())
    return select(ContractDelivery).where(and_(*conditions))


__all__ = [
    "PER_CONTRACT_LIMIT",
    "PER_CUSTOMER_LIMIT",
    "base_select",
    "by_customers",
    "deliveries_by_contracts",
    "delivery_base_select",
    "delivery_live",
    "delivery_visible",
    "get",
    "get_deliveries",
    "get_delivery",
    "get_many",
    "live",
    "number_taken",
    "visible",
    "visible_ids",
]
