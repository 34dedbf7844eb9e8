"""Complaint inputs."""

from __future__ import annotations

import datetime
import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import DateTimeFilter, IDFilter, StringFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {
    "id": "Complaint",
    "customer_id": "Customer",
    "contact_id": "Contact",
    "assignee_id": "User",
}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class ComplaintFilter:
    and_: list[ComplaintFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ComplaintFilter] | None = strawberry.field(name="or", default=None)
    not_: ComplaintFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    contact_id: IDFilter | None = None
    assignee_id: IDFilter | None = None
    kind: enum_filter(E.ComplaintKindEnum) | None = None  # type: ignore[valid-type]
    severity: enum_filter(E.ComplaintSeverityEnum) | None = None  # type: ignore[valid-type]
    status: enum_filter(E.ComplaintStatusEnum) | None = None  # type: ignore[valid-type]
    product_or_service: StringFilter | None = None
    received_at: DateTimeFilter | None = None
    sla_due_at: DateTimeFilter | None = None
    handled_at: DateTimeFilter | None = None
    resolved_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class ComplaintOrderField(enum.Enum):
    RECEIVED_AT = "received_at"
    SLA_DUE_AT = "sla_due_at"
    HANDLED_AT = "handled_at"
    RESOLVED_AT = "resolved_at"
    PRODUCT_OR_SERVICE = "product_or_service"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ComplaintOrderBy:
    field: ComplaintOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class ComplaintFieldsInput:
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contact of the same customer."
    )
    product_or_service: str | None = UNSET
    customer_expectation: str | None = UNSET
    assignee_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who handles it: a member within your data scope."
    )
    received_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="Now, when left out on create."
    )
    sla_due_at: datetime.datetime | None = strawberry.field(
        default=UNSET,
        description="By default `receivedAt` plus the company's SLA hours for the severity.",
    )
    handled_at: datetime.datetime | None = UNSET
    measures: str | None = UNSET
    resolution: str | None = UNSET


@strawberry.input
class CreateComplaintInput(ComplaintFieldsInput):
    kind: E.ComplaintKindEnum
    description: str
    severity: E.ComplaintSeverityEnum | None = strawberry.field(
        default=UNSET, description="MEDIUM when left out."
    )


@strawberry.input
class UpdateComplaintInput(ComplaintFieldsInput):
    kind: E.ComplaintKindEnum | None = UNSET
    description: str | None = UNSET
    severity: E.ComplaintSeverityEnum | None = strawberry.field(
        default=UNSET, description="Moves the SLA due time unless `slaDueAt` is given too."
    )
    status: E.ComplaintStatusEnum | None = strawberry.field(
        default=UNSET, description="Along the workflow only (see ComplaintStatus)."
    )
    resolved_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="Now, when the status becomes RESOLVED without one."
    )
    satisfaction: int | None = strawberry.field(
        default=UNSET, description="1–5; only when RESOLVED or CLOSED."
    )
