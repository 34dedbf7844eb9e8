"""The lists of records under a customer, one field per kind, each through its per-customer
DataLoader (a page of customers costs one statement per kind asked for, whatever its size).

Kept apart from the Customer type's own fields; ``Customer`` inherits them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import related_size

if TYPE_CHECKING:
    from crm_api.activities.types import Activity
    from crm_api.complaints.types import Complaint
    from crm_api.contacts.types import Contact
    from crm_api.contracts.types import Contract
    from crm_api.evaluations.types import RelationshipEvaluation
    from crm_api.followups.types import FollowUp
    from crm_api.interactions.types import Interaction
    from crm_api.leads.types import Lead
    from crm_api.lifecycle.types import CustomerLifecycleEvent
    from crm_api.opportunities.types import Opportunity
    from crm_api.orders.types import Order
    from crm_api.requirements.types import RequirementAnalysis
    from crm_api.tickets.types import ServiceTicket
    from crm_api.visits.types import VisitPlan, VisitRecord


@strawberry.type
class CustomerRecords:
    _pk: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="Leads converted into this customer (in your data scope), latest first.",
        extensions=requires("lead:read"),
    )
    async def leads(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Lead, strawberry.lazy("crm_api.leads.types")]]:
        from crm_api.leads.types import Lead

        key = (self._pk, related_size(first))
        rows = await info.context.loaders.leads_by_converted_customer_id.load(key)
        return [Lead.from_model(r, info.context.mask_personal) for r in rows]

    @strawberry.field(
        description="Relationship evaluations of this customer, latest first.",
        extensions=requires("evaluation:read"),
    )
    async def evaluations(
        self, info: Info, first: int = 20
    ) -> list[Annotated[RelationshipEvaluation, strawberry.lazy("crm_api.evaluations.types")]]:
        from crm_api.evaluations.types import RelationshipEvaluation

        key = (self._pk, related_size(first))
        return [
            RelationshipEvaluation.from_model(r)
            for r in await info.context.loaders.relationship_evaluations_by_customer_id.load(key)
        ]

    @strawberry.field(
        description="The latest relationship evaluation, if any.",
        extensions=requires("evaluation:read"),
    )
    async def latest_evaluation(
        self, info: Info
    ) -> Annotated[RelationshipEvaluation, strawberry.lazy("crm_api.evaluations.types")] | None:
        from crm_api.evaluations.types import RelationshipEvaluation

        loader = info.context.loaders.relationship_evaluations_by_customer_id
        rows = await loader.load((self._pk, 1))
        return RelationshipEvaluation.from_model(rows[0]) if rows else None

    @strawberry.field(
        description="The people at this customer, primary contact first.",
        extensions=requires("contact:read"),
    )
    async def contacts(
        self, info: Info
    ) -> list[Annotated[Contact, strawberry.lazy("crm_api.contacts.types")]]:
        from crm_api.contacts.types import Contact

        rows = await info.context.loaders.contacts_by_customer_id.load(self._pk)
        mask = info.context.mask_personal
        return [Contact.from_model(r, mask) for r in rows]

    @strawberry.field(
        description="Contact records with this customer, latest first.",
        extensions=requires("interaction:read"),
    )
    async def interactions(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Interaction, strawberry.lazy("crm_api.interactions.types")]]:
        from crm_api.interactions.types import Interaction

        key = (self._pk, related_size(first))
        return [
            Interaction.from_model(r)
            for r in await info.context.loaders.interactions_by_customer_id.load(key)
        ]

    @strawberry.field(
        description="Follow-ups on this customer, latest scheduled first.",
        extensions=requires("followup:read"),
    )
    async def follow_ups(
        self, info: Info, first: int = 20
    ) -> list[Annotated[FollowUp, strawberry.lazy("crm_api.followups.types")]]:
        from crm_api.followups.types import FollowUp

        key = (self._pk, related_size(first))
        return [
            FollowUp.from_model(r)
            for r in await info.context.loaders.follow_ups_by_customer_id.load(key)
        ]

    @strawberry.field(
        description="Complaints and feedback from this customer, latest received first.",
        extensions=requires("complaint:read"),
    )
    async def complaints(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Complaint, strawberry.lazy("crm_api.complaints.types")]]:
        from crm_api.complaints.types import Complaint

        key = (self._pk, related_size(first))
        return [
            Complaint.from_model(r)
            for r in await info.context.loaders.complaints_by_customer_id.load(key)
        ]

    @strawberry.field(
        description="After-sales service tickets of this customer, latest requested first.",
        extensions=requires("ticket:read"),
    )
    async def service_tickets(
        self, info: Info, first: int = 20
    ) -> list[Annotated[ServiceTicket, strawberry.lazy("crm_api.tickets.types")]]:
        from crm_api.tickets.types import ServiceTicket

        key = (self._pk, related_size(first))
        return [
            ServiceTicket.from_model(r)
            for r in await info.context.loaders.service_tickets_by_customer_id.load(key)
        ]

    # Activities, visits and lifecycle history (tenant_0009).
    @strawberry.field(
        description="Activities this customer is on the list of, latest start first.",
        extensions=requires("activity:read"),
    )
    async def activities(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Activity, strawberry.lazy("crm_api.activities.types")]]:
        from crm_api.activities.types import Activity

        key = (self._pk, related_size(first))
        rows = await info.context.loaders.activities_by_customer_id.load(key)
        return [Activity.from_model(r) for r in rows]

    @strawberry.field(
        description="Visit plans for this customer, latest planned first.",
        extensions=requires("visit_plan:read"),
    )
    async def visit_plans(
        self, info: Info, first: int = 20
    ) -> list[Annotated[VisitPlan, strawberry.lazy("crm_api.visits.types")]]:
        from crm_api.visits.types import VisitPlan

        key = (self._pk, related_size(first))
        rows = await info.context.loaders.visit_plans_by_customer_id.load(key)
        return [VisitPlan.from_model(r) for r in rows]

    @strawberry.field(
        description="Visits made to this customer, latest first.",
        extensions=requires("visit_record:read"),
    )
    async def visit_records(
        self, info: Info, first: int = 20
    ) -> list[Annotated[VisitRecord, strawberry.lazy("crm_api.visits.types")]]:
        from crm_api.visits.types import VisitRecord

        key = (self._pk, related_size(first))
        rows = await info.context.loaders.visit_records_by_customer_id.load(key)
        return [VisitRecord.from_model(r) for r in rows]

    @strawberry.field(
        description="Changes of this customer's lifecycle stage, latest first.",
        extensions=requires("lifecycle:read"),
    )
    async def lifecycle_history(
        self, info: Info, first: int = 20
    ) -> list[Annotated[CustomerLifecycleEvent, strawberry.lazy("crm_api.lifecycle.types")]]:
        from crm_api.lifecycle.types import CustomerLifecycleEvent

        key = (self._pk, related_size(first))
        rows = await info.context.loaders.lifecycle_events_by_customer_id.load(key)
        return [CustomerLifecycleEvent.from_model(r) for r in rows]

    @strawberry.field(
        description="Requirement analyses of this customer, latest first.",
        extensions=requires("requirement:read"),
    )
    async def requirement_analyses(
        self, info: Info, first: int = 20
    ) -> list[Annotated[RequirementAnalysis, strawberry.lazy("crm_api.requirements.types")]]:
        from crm_api.requirements.types import RequirementAnalysis

        key = (self._pk, related_size(first))
        return [
            RequirementAnalysis.from_model(r)
            for r in await info.context.loaders.requirement_analyses_by_customer_id.load(key)
        ]

    @strawberry.field(
        description="Sales opportunities with this customer, latest first.",
        extensions=requires("opportunity:read"),
    )
    async def opportunities(
        self,
        info: Info,
        first: int = 20,
        open: Annotated[
            bool, strawberry.argument(description="Only those neither won nor lost.")
        ] = False,
    ) -> list[Annotated[Opportunity, strawberry.lazy("crm_api.opportunities.types")]]:
        from crm_api.opportunities.types import Opportunity

        loaders = info.context.loaders
        loader = (
            loaders.open_opportunities_by_customer_id
            if open
            else loaders.opportunities_by_customer_id
        )
        key = (self._pk, related_size(first))
        return [Opportunity.from_model(r) for r in await loader.load(key)]

    @strawberry.field(
        description="Contracts with this customer, latest start first.",
        extensions=requires("contract:read"),
    )
    async def contracts(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Contract, strawberry.lazy("crm_api.contracts.types")]]:
        from crm_api.contracts.types import Contract

        key = (self._pk, related_size(first))
        return [
            Contract.from_model(r)
            for r in await info.context.loaders.contracts_by_customer_id.load(key)
        ]

    @strawberry.field(
        description="Orders of this customer, latest first.", extensions=requires("order:read")
    )
    async def orders(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Order, strawberry.lazy("crm_api.orders.types")]]:
        from crm_api.orders.types import Order

        key = (self._pk, related_size(first))
        return [
            Order.from_model(r) for r in await info.context.loaders.orders_by_customer_id.load(key)
        ]
