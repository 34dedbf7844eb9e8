"""Service-ticket inputs."""

from __future__ import annotations

import datetime
import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import DateTimeFilter, IDFilter, StringFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {
    "id": "ServiceTicket",
    "customer_id": "Customer",
    "contact_id": "Contact",
    "assignee_id": "User",
}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class ServiceTicketFilter:
    and_: list[ServiceTicketFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ServiceTicketFilter] | None = strawberry.field(name="or", default=None)
    not_: ServiceTicketFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    contact_id: IDFilter | None = None
    assignee_id: IDFilter | None = None
    priority: enum_filter(E.TicketPriorityEnum) | None = None  # type: ignore[valid-type]
    status: enum_filter(E.TicketStatusEnum) | None = None  # type: ignore[valid-type]
    product: StringFilter | None = None
    requested_at: DateTimeFilter | None = None
    handled_at: DateTimeFilter | None = None
    resolved_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class ServiceTicketOrderField(enum.Enum):
    REQUESTED_AT = "requested_at"
    HANDLED_AT = "handled_at"
    RESOLVED_AT = "resolved_at"
    PRODUCT = "product"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ServiceTicketOrderBy:
    field: ServiceTicketOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class ServiceTicketFieldsInput:
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contact of the same customer."
    )
    product: str | None = UNSET
    expectation: str | None = UNSET
    assignee_id: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="Who handles it: a member within your data scope; required past NEW.",
    )
    requested_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="Now, when left out on create."
    )
    handled_at: datetime.datetime | None = UNSET
    measures: str | None = UNSET
    result: str | None = UNSET


@strawberry.input
class CreateServiceTicketInput(ServiceTicketFieldsInput):
    problem: str
    priority: E.TicketPriorityEnum | None = strawberry.field(
        default=UNSET, description="NORMAL when left out."
    )


@strawberry.input
class UpdateServiceTicketInput(ServiceTicketFieldsInput):
    problem: str | None = UNSET
    priority: E.TicketPriorityEnum | None = UNSET
    status: E.TicketStatusEnum | None = strawberry.field(
        default=UNSET, description="Along the workflow only (see TicketStatus)."
    )
    resolved_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="Now, when the status becomes RESOLVED without one."
    )
    satisfaction: int | None = strawberry.field(
        default=UNSET, description="1–5; only when RESOLVED or CLOSED."
    )
