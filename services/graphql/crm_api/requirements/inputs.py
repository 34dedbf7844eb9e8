"""Requirement analysis inputs."""

from __future__ import annotations

import datetime
import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import DateFilter, DateTimeFilter, IDFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {
    "id": "RequirementAnalysis",
    "customer_id": "Customer",
    "contact_id": "Contact",
    "owner_id": "User",
}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class RequirementAnalysisFilter:
    and_: list[RequirementAnalysisFilter] | None = strawberry.field(name="and", default=None)
    or_: list[RequirementAnalysisFilter] | None = strawberry.field(name="or", default=None)
    not_: RequirementAnalysisFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    contact_id: IDFilter | None = None
    owner_id: IDFilter | None = None
    priority: enum_filter(E.RequirementPriorityEnum) | None = None  # type: ignore[valid-type]
    implementation_status: enum_filter(E.RequirementStatusEnum) | None = None  # type: ignore[valid-type]
    desired_delivery_on: DateFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class RequirementAnalysisOrderField(enum.Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    DESIRED_DELIVERY_ON = "desired_delivery_on"
    PRIORITY = "priority"


@strawberry.input
class RequirementAnalysisOrderBy:
    field: RequirementAnalysisOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class RequirementAnalysisFieldsInput:
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contact of the same customer."
    )
    product_features: str | None = UNSET
    service_content: str | None = UNSET
    desired_delivery_on: datetime.date | None = UNSET
    priority: E.RequirementPriorityEnum | None = strawberry.field(
        default=UNSET, description="MEDIUM when left out."
    )
    analysis: str | None = UNSET
    proposed_solution: str | None = UNSET
    effect: str | None = UNSET
    owner_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A member within your data scope; you when left out."
    )


@strawberry.input
class CreateRequirementAnalysisInput(RequirementAnalysisFieldsInput):
    summary: str


@strawberry.input
class UpdateRequirementAnalysisInput(RequirementAnalysisFieldsInput):
    summary: str | None = UNSET
    implementation_status: E.RequirementStatusEnum | None = strawberry.field(
        default=UNSET, description="Along the workflow only (see RequirementStatus)."
    )
