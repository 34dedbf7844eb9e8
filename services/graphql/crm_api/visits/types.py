"""The VisitPlan and VisitRecord types (客户联络计划, 客户拜访记录)."""

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
from crm_api.related import contact_of, customer_of, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.visits.models import OUTCOME_LABELS, VisitOutcome
from crm_core.visits.models import VisitPlan as P
from crm_core.visits.models import VisitRecord as R

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer

PLAN_FIELDS: dict[str, Col] = {
    "planned_at": Col(P.planned_at, sortable=True),
    "purpose": Col(P.purpose, filterable=False),
    "place": Col(P.place, sortable=True),
    "status": Col(P.status, E.VisitPlanStatusEnum),
    "notes": Col(P.notes, filterable=False),
    "version": Col(P.version, filterable=False),
    "created_at": Col(P.created_at, sortable=True),
    "updated_at": Col(P.updated_at, sortable=True),
    "deleted_at": Col(P.deleted_at),
}
PLAN_HIDDEN: dict[str, Col] = {
    "id": Col(P.id, sortable=True),
    "customer_id": Col(P.customer_id),
    "contact_id": Col(P.contact_id),
    "visitor_id": Col(P.visitor_id),
}
RECORD_FIELDS: dict[str, Col] = {
    "visited_at": Col(R.visited_at, sortable=True),
    "outcome": Col(R.outcome, E.VisitOutcomeEnum, sortable=True),
    "content": Col(R.content, filterable=False),
    "problems_solved": Col(R.problems_solved, filterable=False),
    "watch_next_time": Col(R.watch_next_time, filterable=False),
    "expenses": Col(R.expenses, sortable=True),
    "currency": Col(R.currency),
    "next_visit_on": Col(R.next_visit_on, sortable=True),
    "version": Col(R.version, filterable=False),
    "created_at": Col(R.created_at, sortable=True),
    "updated_at": Col(R.updated_at, sortable=True),
    "deleted_at": Col(R.deleted_at),
}
RECORD_HIDDEN: dict[str, Col] = {
    "id": Col(R.id, sortable=True),
    "customer_id": Col(R.customer_id),
    "contact_id": Col(R.contact_id),
    "plan_id": Col(R.plan_id),
    "visitor_id": Col(R.visitor_id),
}


@strawberry.type(description="A planned visit to a customer (客户联络计划): when, why, where, who.")
class VisitPlan(Node):
    planned_at: datetime.datetime
    purpose: str
    place: str | None
    status: E.VisitPlanStatusEnum
    notes: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _pk: strawberry.Private[uuid.UUID]
    _customer_id: strawberry.Private[uuid.UUID]
    _contact_id: strawberry.Private[uuid.UUID | None]
    _visitor_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: P) -> VisitPlan:
        return cls(
            id=strawberry.ID(to_global_id("VisitPlan", row.id)),
            _pk=row.id,
            _customer_id=row.customer_id,
            _contact_id=row.contact_id,
            _visitor_id=row.visitor_id,
            **read_fields(row, PLAN_FIELDS),
        )

    @strawberry.field(description="The customer to visit.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="The person to see.", extensions=requires("contact:read"))
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)

    @strawberry.field(description="Who visits.")
    async def visitor(self, info: Info) -> User | None:
        return await user_of(info, self._visitor_id)

    @strawberry.field(
        description="The report of the visit that carried out this plan, once recorded.",
        extensions=requires("visit_record:read"),
    )
    async def record(self, info: Info) -> VisitRecord | None:
        row = await info.context.loaders.visit_record_by_plan_id.load(self._pk)
        return VisitRecord.from_model(row) if row is not None else None


@strawberry.type(
    description="A visit made to a customer (客户拜访记录, 拜访日报): what came of it, graded "
    "A–E, what was solved, what to watch next time, and what it cost."
)
class VisitRecord(Node):
    visited_at: datetime.datetime
    outcome: E.VisitOutcomeEnum
    outcome_label: str = strawberry.field(
        description="The grade's meaning: deal done, promising, visit again, no hope, keep watching."
    )
    content: str | None
    problems_solved: str | None
    watch_next_time: str | None = strawberry.field(description="What to watch on the next visit.")
    expenses: Decimal = strawberry.field(description="Spent on the visit, ≥ 0, in `currency`.")
    currency: str = strawberry.field(description="ISO 4217; the company's currency by default.")
    next_visit_on: datetime.date | None = strawberry.field(
        description="The next visit's day; after the day of `visitedAt`."
    )
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _customer_id: strawberry.Private[uuid.UUID]
    _contact_id: strawberry.Private[uuid.UUID | None]
    _plan_id: strawberry.Private[uuid.UUID | None]
    _visitor_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: R) -> VisitRecord:
        return cls(
            id=strawberry.ID(to_global_id("VisitRecord", row.id)),
            _customer_id=row.customer_id,
            _contact_id=row.contact_id,
            _plan_id=row.plan_id,
            _visitor_id=row.visitor_id,
            outcome_label=OUTCOME_LABELS[VisitOutcome(row.outcome)],
            **read_fields(row, RECORD_FIELDS),
        )

    @strawberry.field(description="The customer visited.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="The person seen.", extensions=requires("contact:read"))
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)

    @strawberry.field(description="Who visited.")
    async def visitor(self, info: Info) -> User | None:
        return await user_of(info, self._visitor_id)

    @strawberry.field(
        description="The plan this visit carried out, if any.",
        extensions=requires("visit_plan:read"),
    )
    async def plan(self, info: Info) -> VisitPlan | None:
        if self._plan_id is None:
            return None
        row = await info.context.loaders.visit_plan_by_id.load(self._plan_id)
        return VisitPlan.from_model(row) if row is not None else None
