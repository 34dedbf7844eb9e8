"""The ServiceTicket type (an after-sales service record)."""

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
from crm_core.tickets.models import ServiceTicket as M

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "problem": Col(M.problem, filterable=False),
    "product": Col(M.product, sortable=True),
    "expectation": Col(M.expectation, filterable=False),
    "priority": Col(M.priority, E.TicketPriorityEnum),
    "status": Col(M.status, E.TicketStatusEnum),
    "requested_at": Col(M.requested_at, sortable=True),
    "handled_at": Col(M.handled_at, sortable=True),
    "measures": Col(M.measures, filterable=False),
    "result": Col(M.result, filterable=False),
    "resolved_at": Col(M.resolved_at, sortable=True),
    "satisfaction": Col(M.satisfaction, filterable=False),
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
    "assignee_id": Col(M.assignee_id),
}


@strawberry.type(
    description="An after-sales service request from a customer (售后服务记录), with its handling."
)
class ServiceTicket(Node):
    problem: str
    product: str | None
    expectation: str | None = strawberry.field(description="What the customer expects.")
    priority: E.TicketPriorityEnum
    status: E.TicketStatusEnum
    requested_at: datetime.datetime
    handled_at: datetime.datetime | None
    measures: str | None = strawberry.field(description="What was done about it.")
    result: str | None
    resolved_at: datetime.datetime | None
    satisfaction: int | None = strawberry.field(
        description="The customer's rating of the service, 1–5."
    )
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _customer_id: strawberry.Private[uuid.UUID]
    _contact_id: strawberry.Private[uuid.UUID | None]
    _assignee_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M) -> ServiceTicket:
        return cls(
            id=strawberry.ID(to_global_id("ServiceTicket", row.id)),
            _customer_id=row.customer_id,
            _contact_id=row.contact_id,
            _assignee_id=row.assignee_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(description="The customer served.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="The person who asked.", extensions=requires("contact:read"))
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)

    @strawberry.field(description="Who handles it; null while the ticket is new.")
    async def assignee(self, info: Info) -> User | None:
        return await user_of(info, self._assignee_id)
