"""Visit plan and visit record inputs."""

from __future__ import annotations

import datetime
import enum
from decimal import Decimal

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import DateFilter, DateTimeFilter, IDFilter, StringFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

PLAN_ID_FIELDS = {
    "id": "VisitPlan",
    "customer_id": "Customer",
    "contact_id": "Contact",
    "visitor_id": "User",
}
RECORD_ID_FIELDS = {**PLAN_ID_FIELDS, "id": "VisitRecord", "plan_id": "VisitPlan"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class VisitPlanFilter:
    and_: list[VisitPlanFilter] | None = strawberry.field(name="and", default=None)
    or_: list[VisitPlanFilter] | None = strawberry.field(name="or", default=None)
    not_: VisitPlanFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    contact_id: IDFilter | None = None
    visitor_id: IDFilter | None = None
    status: enum_filter(E.VisitPlanStatusEnum) | None = None  # type: ignore[valid-type]
    place: StringFilter | None = None
    planned_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class VisitPlanOrderField(enum.Enum):
    PLANNED_AT = "planned_at"
    PLACE = "place"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class VisitPlanOrderBy:
    field: VisitPlanOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class VisitPlanFieldsInput:
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contact of the same customer."
    )
    place: str | None = UNSET
    visitor_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who visits: you, when left out; a member within your scope."
    )
    notes: str | None = UNSET


@strawberry.input
class CreateVisitPlanInput(VisitPlanFieldsInput):
    planned_at: datetime.datetime = strawberry.field(
        description='Not inside the customer\'s "do not visit" times (company time zone).'
    )
    purpose: str


@strawberry.input
class UpdateVisitPlanInput(VisitPlanFieldsInput):
    planned_at: datetime.datetime | None = UNSET
    purpose: str | None = UNSET
    status: E.VisitPlanStatusEnum | None = strawberry.field(
        default=UNSET, description="PLANNED → DONE | CANCELLED only."
    )


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class VisitRecordFilter:
    and_: list[VisitRecordFilter] | None = strawberry.field(name="and", default=None)
    or_: list[VisitRecordFilter] | None = strawberry.field(name="or", default=None)
    not_: VisitRecordFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    contact_id: IDFilter | None = None
    plan_id: IDFilter | None = None
    visitor_id: IDFilter | None = None
    outcome: enum_filter(E.VisitOutcomeEnum) | None = None  # type: ignore[valid-type]
    currency: StringFilter | None = None
    visited_at: DateTimeFilter | None = None
    next_visit_on: DateFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class VisitRecordOrderField(enum.Enum):
    VISITED_AT = "visited_at"
    OUTCOME = "outcome"
    EXPENSES = "expenses"
    NEXT_VISIT_ON = "next_visit_on"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class VisitRecordOrderBy:
    field: VisitRecordOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class VisitRecordFieldsInput:
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A contact of the same customer."
    )
    plan_id: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="The plan this visit carried out (same customer); it becomes DONE.",
    )
    visited_at: datetime.datetime | None = strawberry.field(
        default=UNSET, description="Now, when left out on create."
    )
    visitor_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who visited: you, when left out; a member within your scope."
    )
    content: str | None = UNSET
    problems_solved: str | None = UNSET
    watch_next_time: str | None = UNSET
    expenses: Decimal | None = strawberry.field(
        default=UNSET, description="≥ 0, two decimals; 0 when left out."
    )
    currency: str | None = strawberry.field(
        default=UNSET, description="ISO 4217; the company's currency when left out."
    )
    next_visit_on: datetime.date | None = strawberry.field(
        default=UNSET, description="After the day of `visitedAt`."
    )


@strawberry.input
class CreateVisitRecordInput(VisitRecordFieldsInput):
    outcome: E.VisitOutcomeEnum


@strawberry.input
class UpdateVisitRecordInput(VisitRecordFieldsInput):
    outcome: E.VisitOutcomeEnum | None = UNSET
