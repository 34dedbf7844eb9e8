"""The RequirementAnalysis type (客户需求分析表: a customer's need and what is done about it)."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import contact_of, customer_of, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.requirements.models import RequirementAnalysis as M

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "summary": Col(M.summary, filterable=False),
    "product_features": Col(M.product_features, filterable=False),
    "service_content": Col(M.service_content, filterable=False),
    "desired_delivery_on": Col(M.desired_delivery_on, sortable=True),
    "priority": Col(M.priority, E.RequirementPriorityEnum, sortable=True),
    "analysis": Col(M.analysis, filterable=False),
    "proposed_solution": Col(M.proposed_solution, filterable=False),
    "implementation_status": Col(M.implementation_status, E.RequirementStatusEnum),
    "effect": Col(M.effect, filterable=False),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "contact_id": Col(M.contact_id),
    "owner_id": Col(M.owner_id),
}


@strawberry.type(
    description="A customer's need (客户需求分析): product features, service content, delivery "
    "time, priority; its analysis, proposed solution, implementation status and effect."
)
class RequirementAnalysis(Node):
    summary: str = strawberry.field(description="The need in a sentence or two.")
    product_features: str | None
    service_content: str | None
    desired_delivery_on: datetime.date | None
    priority: E.RequirementPriorityEnum
    analysis: str | None
    proposed_solution: str | None
    implementation_status: E.RequirementStatusEnum
    effect: str | None = strawberry.field(description="What the solution achieved.")
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _customer_id: strawberry.Private[uuid.UUID]
    _contact_id: strawberry.Private[uuid.UUID | None]
    _owner_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M) -> RequirementAnalysis:
        return cls(
            id=strawberry.ID(to_global_id("RequirementAnalysis", row.id)),
            _customer_id=row.customer_id,
            _contact_id=row.contact_id,
            _owner_id=row.owner_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(
        description="The customer with the need.", extensions=requires("customer:read")
    )
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="Who expressed it.", extensions=requires("contact:read"))
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)

    @strawberry.field(description="Who analyses and follows it.")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)
