"""The Complaint type (a complaint or other feedback, with its handling)."""

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
from crm_core.complaints.models import Complaint as M

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "kind": Col(M.kind, E.ComplaintKindEnum),
    "description": Col(M.description, filterable=False),
    "product_or_service": Col(M.product_or_service, sortable=True),
    "customer_expectation": Col(M.customer_expectation, filterable=False),
    "severity": Col(M.severity, E.ComplaintSeverityEnum),
    "status": Col(M.status, E.ComplaintStatusEnum),
    "received_at": Col(M.received_at, sortable=True),
    "sla_due_at": Col(M.sla_due_at, sortable=True),
    "handled_at": Col(M.handled_at, sortable=True),
    "measures": Col(M.measures, filterable=False),
    "resolution": Col(M.resolution, filterable=False),
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
    description="A complaint, suggestion, praise or inquiry from a customer (客户投诉与反馈), "
    "with its handling."
)
class Complaint(Node):
    kind: E.ComplaintKindEnum
    description: str
    product_or_service: str | None
    customer_expectation: str | None
    severity: E.ComplaintSeverityEnum
    status: E.ComplaintStatusEnum
    received_at: datetime.datetime
    sla_due_at: datetime.datetime = strawberry.field(
        description="When it must be resolved by; from the severity unless set."
    )
    handled_at: datetime.datetime | None
    measures: str | None = strawberry.field(description="What was done about it.")
    resolution: str | None
    resolved_at: datetime.datetime | None
    satisfaction: int | None = strawberry.field(
        description="The customer's rating of the handling, 1–5."
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
    def from_model(cls, row: M) -> Complaint:
        return cls(
            id=strawberry.ID(to_global_id("Complaint", row.id)),
            _customer_id=row.customer_id,
            _contact_id=row.contact_id,
            _assignee_id=row.assignee_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(
        description="The customer who gave the feedback.", extensions=requires("customer:read")
    )
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="The person who raised it.", extensions=requires("contact:read"))
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)

    @strawberry.field(description="Who handles it; null while unassigned.")
    async def assignee(self, info: Info) -> User | None:
        return await user_of(info, self._assignee_id)
