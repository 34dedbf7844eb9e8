"""``node(id:)``: any object by global id, through the same loaders and permissions as its type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from crm_api.activities.types import Activity, ActivityAttendee
from crm_api.complaints.types import Complaint
from crm_api.context import Info
from crm_api.contracts.types import Contract, ContractDelivery
from crm_api.errors import as_graphql_errors
from crm_api.evaluations.types import EvaluationCriterion, RelationshipEvaluation
from crm_api.followups.types import FollowUp
from crm_api.interactions.types import Interaction
from crm_api.jobs.queries import load_job
from crm_api.leads.types import Lead
from crm_api.lifecycle.types import CustomerLifecycleEvent
from crm_api.opportunities.types import Opportunity
from crm_api.orders.types import Order
from crm_api.products.types import Product
from crm_api.related import contact_of, customer_of, user_of
from crm_api.relay import Node, from_global_id
from crm_api.requirements.types import RequirementAnalysis
from crm_api.segments.types import Segment
from crm_api.surveys.types import SurveyTemplate
from crm_api.tags.types import Tag
from crm_api.tickets.types import ServiceTicket
from crm_api.visits.types import VisitPlan, VisitRecord
from crm_core.errors import Forbidden

Resolver = Callable[[Info, Any], Awaitable[Node | None]]


async def _interaction(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.interaction_by_id.load(pk)
    return Interaction.from_model(row) if row else None


async def _follow_up(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.follow_up_by_id.load(pk)
    return FollowUp.from_model(row) if row else None


async def _complaint(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.complaint_by_id.load(pk)
    return Complaint.from_model(row) if row else None


async def _service_ticket(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.service_ticket_by_id.load(pk)
    return ServiceTicket.from_model(row) if row else None


async def _relationship_evaluation(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.relationship_evaluation_by_id.load(pk)
    return RelationshipEvaluation.from_model(row) if row else None


async def _evaluation_criterion(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.evaluation_criterion_by_id.load(pk)
    # The loader also serves past scores' deleted criteria; by id, deleted is missing.
    return EvaluationCriterion.from_model(row) if row and row.deleted_at is None else None


async def _survey_template(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.survey_template_by_id.load(pk)
    return SurveyTemplate.from_model(row) if row else None


async def _product(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.product_by_id.load(pk)
    return Product.from_model(row) if row else None


async def _requirement_analysis(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.requirement_analysis_by_id.load(pk)
    return RequirementAnalysis.from_model(row) if row else None


async def _opportunity(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.opportunity_by_id.load(pk)
    return Opportunity.from_model(row) if row else None


async def _contract(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.contract_by_id.load(pk)
    return Contract.from_model(row) if row else None


async def _contract_delivery(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.contract_delivery_by_id.load(pk)
    return ContractDelivery.from_model(row) if row else None


async def _order(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.order_by_id.load(pk)
    return Order.from_model(row) if row else None


async def _lead(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.lead_by_id.load(pk)
    return Lead.from_model(row, info.context.mask_personal) if row else None


async def _tag(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.tag_by_id.load(pk)
    return Tag.from_model(row) if row else None


async def _segment(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.segment_by_id.load(pk)
    return Segment.from_model(row) if row else None


async def _activity(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.activity_by_id.load(pk)
    return Activity.from_model(row) if row else None


async def _activity_attendee(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.activity_attendee_by_id.load(pk)
    return ActivityAttendee.from_model(row) if row else None


async def _visit_plan(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.visit_plan_by_id.load(pk)
    return VisitPlan.from_model(row) if row else None


async def _visit_record(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.visit_record_by_id.load(pk)
    return VisitRecord.from_model(row) if row else None


async def _lifecycle_event(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.lifecycle_event_by_id.load(pk)
    return CustomerLifecycleEvent.from_model(row) if row else None


async def _survey_response(info: Info, pk: Any) -> Node | None:
    from crm_api.surveys.send_types import SurveyResponse

    row = await info.context.loaders.survey_response_by_id.load(pk)
    return SurveyResponse.from_model(row) if row else None


RESOLVERS: dict[str, tuple[str | None, Resolver]] = {
    "Lead": ("lead:read", _lead),
    "Tag": ("tag:read", _tag),
    "Segment": ("segment:read", _segment),
    "Customer": ("customer:read", customer_of),
    "Contact": ("contact:read", contact_of),
    "Interaction": ("interaction:read", _interaction),
    "FollowUp": ("followup:read", _follow_up),
    "Complaint": ("complaint:read", _complaint),
    "ServiceTicket": ("ticket:read", _service_ticket),
    "RelationshipEvaluation": ("evaluation:read", _relationship_evaluation),
    "EvaluationCriterion": ("evaluation:read", _evaluation_criterion),
    "SurveyTemplate": ("survey:read", _survey_template),
    "SurveyResponse": ("survey:results", _survey_response),
    "Product": ("product:read", _product),
    "RequirementAnalysis": ("requirement:read", _requirement_analysis),
    "Opportunity": ("opportunity:read", _opportunity),
    "Contract": ("contract:read", _contract),
    "ContractDelivery": ("contract:read", _contract_delivery),
    "Order": ("order:read", _order),
    "User": (None, user_of),
    "Activity": ("activity:read", _activity),
    "ActivityAttendee": ("activity:read", _activity_attendee),
    "VisitPlan": ("visit_plan:read", _visit_plan),
    "VisitRecord": ("visit_record:read", _visit_record),
    "CustomerLifecycleEvent": ("lifecycle:read", _lifecycle_event),
    "Job": ("job:read", load_job),
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id; null when missing or not yours.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        async def load() -> Node | None:
            principal = info.context.require_principal()
            type_name, pk = from_global_id(id)
            entry = RESOLVERS.get(type_name)
            if entry is None:
                return None
            permission, resolve = entry
            if permission is not None and not principal.allows(permission):
                raise Forbidden(f"your role lacks {permission}")
            return await resolve(info, pk)

        return await as_graphql_errors(load)
