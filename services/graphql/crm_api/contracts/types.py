"""The Contract and ContractDelivery types."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import customer_of, related_size, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.contracts.models import Contract as M
from crm_core.contracts.models import ContractDelivery as D

if TYPE_CHECKING:
    from crm_api.customers.types import Customer
    from crm_api.opportunities.types import Opportunity
    from crm_api.orders.types import Order


FIELDS: dict[str, Col] = {
    "number": Col(M.number, sortable=True),
    "name": Col(M.name, sortable=True),
    "signed_on": Col(M.signed_on, sortable=True),
    "starts_on": Col(M.starts_on, sortable=True),
    "ends_on": Col(M.ends_on, sortable=True),
    "amount": Col(M.amount, sortable=True),
    "currency": Col(M.currency),
    "status": Col(M.status, E.ContractStatusEnum),
    "terms": Col(M.terms, filterable=False),
    "notes": Col(M.notes, filterable=False),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "opportunity_id": Col(M.opportunity_id),
    "owner_id": Col(M.owner_id),
}

DELIVERY_FIELDS: dict[str, Col] = {
    "due_on": Col(D.due_on, sortable=True),
    "content": Col(D.content, filterable=False),
    "delivered_on": Col(D.delivered_on, sortable=True),
    "acceptance_status": Col(D.acceptance_status, E.AcceptanceStatusEnum),
    "accepted_on": Col(D.accepted_on, sortable=True),
    "acceptance_notes": Col(D.acceptance_notes, filterable=False),
    "version": Col(D.version, filterable=False),
    "created_at": Col(D.created_at, sortable=True),
    "updated_at": Col(D.updated_at, sortable=True),
    "deleted_at": Col(D.deleted_at),
}
DELIVERY_HIDDEN: dict[str, Col] = {
    "id": Col(D.id, sortable=True),
    "contract_id": Col(D.contract_id),
}


@strawberry.type(
    description="A contract with a customer (合同): number, validity, amount and status, with the "
    "deliveries due under it."
)
class Contract(Node):
    number: str = strawberry.field(description="Unique among the company's live contracts.")
    name: str
    signed_on: datetime.date | None
    starts_on: datetime.date
    ends_on: datetime.date = strawberry.field(description="After `startsOn`.")
    amount: Decimal
    currency: str = strawberry.field(description="ISO 4217, e.g. CNY.")
    status: E.ContractStatusEnum
    terms: str | None
    notes: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _pk: strawberry.Private[uuid.UUID]
    _customer_id: strawberry.Private[uuid.UUID]
    _opportunity_id: strawberry.Private[uuid.UUID | None]
    _owner_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M) -> Contract:
        return cls(
            id=strawberry.ID(to_global_id("Contract", row.id)),
            _pk=row.id,
            _customer_id=row.customer_id,
            _opportunity_id=row.opportunity_id,
            _owner_id=row.owner_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(
        description="The customer it was signed with.", extensions=requires("customer:read")
    )
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(
        description="The sales opportunity it closed, if any.",
        extensions=requires("opportunity:read"),
    )
    async def opportunity(
        self, info: Info
    ) -> Annotated[Opportunity, strawberry.lazy("crm_api.opportunities.types")] | None:
        from crm_api.opportunities.types import Opportunity

        if self._opportunity_id is None:
            return None
        row = await info.context.loaders.opportunity_by_id.load(self._opportunity_id)
        return Opportunity.from_model(row) if row is not None else None

    @strawberry.field(description="The member responsible for it.")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)

    @strawberry.field(description="Deliveries due under it, earliest first.")
    async def deliveries(self, info: Info) -> list[ContractDelivery]:
        rows = await info.context.loaders.deliveries_by_contract_id.load(self._pk)
        return [ContractDelivery.from_model(r) for r in rows]

    @strawberry.field(
        description="Orders placed under it, latest first.", extensions=requires("order:read")
    )
    async def orders(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Order, strawberry.lazy("crm_api.orders.types")]]:
        from crm_api.orders.types import Order

        key = (self._pk, related_size(first))
        return [
            Order.from_model(r) for r in await info.context.loaders.orders_by_contract_id.load(key)
        ]


@strawberry.type(description="A delivery due under a contract, and its acceptance (验收).")
class ContractDelivery(Node):
    due_on: datetime.date = strawberry.field(description="Within the contract's validity.")
    content: str
    delivered_on: datetime.date | None
    acceptance_status: E.AcceptanceStatusEnum
    accepted_on: datetime.date | None = strawberry.field(
        description="Set exactly when ACCEPTED; not before `deliveredOn`."
    )
    acceptance_notes: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _contract_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: D) -> ContractDelivery:
        return cls(
            id=strawberry.ID(to_global_id("ContractDelivery", row.id)),
            _contract_id=row.contract_id,
            **read_fields(row, DELIVERY_FIELDS),
        )

    @strawberry.field(description="The contract it is due under.")
    async def contract(self, info: Info) -> Contract | None:
        row = await info.context.loaders.contract_by_id.load(self._contract_id)
        return Contract.from_model(row) if row is not None else None
