"""The schema: every domain's queries and mutations merged, with the protections of design.md."""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from crm_api.activities.mutations import ActivityMutations
from crm_api.activities.queries import ActivityQueries
from crm_api.activities.types import Activity, ActivityAttendee
from crm_api.backups.schema import BackupMutations, BackupQueries
from crm_api.complaints.mutations import ComplaintMutations
from crm_api.complaints.queries import ComplaintQueries
from crm_api.complaints.types import Complaint
from crm_api.contacts.mutations import ContactMutations
from crm_api.contacts.queries import ContactQueries
from crm_api.contacts.types import Contact
from crm_api.context import Info
from crm_api.contracts.deliveries import ContractDeliveryMutations
from crm_api.contracts.mutations import ContractMutations
from crm_api.contracts.queries import ContractQueries
from crm_api.contracts.types import Contract, ContractDelivery
from crm_api.cost import CostLimiter
from crm_api.customers.mutations import CustomerMutations
from crm_api.customers.queries import CustomerQueries
from crm_api.customers.types import Customer
from crm_api.dedup.mutations import DedupMutations
from crm_api.dedup.queries import DedupQueries
from crm_api.enums import RoleEnum
from crm_api.errors import should_mask
from crm_api.evaluations.mutations import EvaluationMutations
from crm_api.evaluations.queries import EvaluationQueries
from crm_api.evaluations.types import EvaluationCriterion, RelationshipEvaluation
from crm_api.followups.mutations import FollowUpMutations
from crm_api.followups.queries import FollowUpQueries
from crm_api.followups.types import FollowUp
from crm_api.identity.clients import ApiClientMutations, ApiClientQueries
from crm_api.identity.invitations import InvitationMutations, InvitationQueries
from crm_api.identity.members import MemberMutations, MemberQueries
from crm_api.identity.mutations import IdentityMutations
from crm_api.identity.queries import IdentityQueries
from crm_api.identity.sso_admin import SsoAdminMutations, SsoAdminQueries
from crm_api.interactions.mutations import InteractionMutations
from crm_api.interactions.queries import InteractionQueries
from crm_api.interactions.types import Interaction
from crm_api.jobs.mutations import JobMutations
from crm_api.jobs.queries import JobQueries
from crm_api.jobs.types import Job
from crm_api.leads.mutations import LeadMutations
from crm_api.leads.queries import LeadQueries
from crm_api.leads.types import Lead
from crm_api.lifecycle.queries import LifecycleQueries
from crm_api.lifecycle.types import CustomerLifecycleEvent
from crm_api.mail.schema import MailMutations, MailQueries
from crm_api.mywork import MyWorkQueries
from crm_api.node import NodeQueries
from crm_api.opportunities.mutations import OpportunityMutations
from crm_api.opportunities.queries import OpportunityQueries
from crm_api.opportunities.types import Opportunity
from crm_api.orders.money import OrderMoneyMutations
from crm_api.orders.mutations import OrderMutations
from crm_api.orders.queries import OrderQueries
from crm_api.orders.types import Order
from crm_api.pool.mutations import PoolMutations
from crm_api.pool.queries import PoolQueries
from crm_api.products.mutations import ProductMutations
from crm_api.products.queries import ProductQueries
from crm_api.products.types import Product
from crm_api.requirements.mutations import RequirementAnalysisMutations
from crm_api.requirements.queries import RequirementAnalysisQueries
from crm_api.requirements.types import RequirementAnalysis
from crm_api.schedules import ScheduleMutations, ScheduleQueries
from crm_api.search import SearchQueries
from crm_api.segments.mutations import SegmentMutations
from crm_api.segments.queries import SegmentQueries
from crm_api.segments.types import Segment
from crm_api.surveys.mutations import SurveyMutations
from crm_api.surveys.queries import SurveyQueries
from crm_api.surveys.sends import SurveySendMutations, SurveySendQueries
from crm_api.surveys.types import SurveyTemplate
from crm_api.tags.mutations import TagMutations
from crm_api.tags.queries import TagQueries
from crm_api.tags.types import Tag
from crm_api.tickets.mutations import ServiceTicketMutations
from crm_api.tickets.queries import ServiceTicketQueries
from crm_api.tickets.types import ServiceTicket
from crm_api.tracing import SafeOpenTelemetryExtension
from crm_api.transfer.schema import TransferMutations, TransferQueries
from crm_api.users import User
from crm_api.visits.mutations import VisitMutations
from crm_api.visits.queries import VisitQueries
from crm_api.visits.types import VisitPlan, VisitRecord
from crm_core.settings import Settings


@strawberry.type(description="The signed-in user in the current company.")
class Viewer:
    user: User | None
    tenant_slug: str
    role: RoleEnum


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="Who you are signed in as; null without a token.")
    async def viewer(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal is None:
            return None
        row = await info.context.loaders.user_by_id.load(principal.user_id)
        return Viewer(
            user=User.from_model(row) if row else None,
            tenant_slug=principal.tenant.slug,
            role=RoleEnum(principal.role.value),
        )


Query = merge_types(
    "Query",
    (
        ViewerQueries,
        IdentityQueries,
        NodeQueries,
        SearchQueries,
        MyWorkQueries,
        MemberQueries,
        InvitationQueries,
        MailQueries,
        SsoAdminQueries,
        ApiClientQueries,
        BackupQueries,
        CustomerQueries,
        DedupQueries,
        ContactQueries,
        InteractionQueries,
        FollowUpQueries,
        ComplaintQueries,
        ServiceTicketQueries,
        ProductQueries,
        RequirementAnalysisQueries,
        OpportunityQueries,
        ContractQueries,
        OrderQueries,
        LeadQueries,
        TagQueries,
        SegmentQueries,
        EvaluationQueries,
        SurveyQueries,
        SurveySendQueries,
        PoolQueries,
        ActivityQueries,
        VisitQueries,
        LifecycleQueries,
        JobQueries,
        ScheduleQueries,
        TransferQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        IdentityMutations,
        MemberMutations,
        InvitationMutations,
        MailMutations,
        SsoAdminMutations,
        ApiClientMutations,
        BackupMutations,
        CustomerMutations,
        DedupMutations,
        ContactMutations,
        InteractionMutations,
        FollowUpMutations,
        ComplaintMutations,
        ServiceTicketMutations,
        ProductMutations,
        RequirementAnalysisMutations,
        OpportunityMutations,
        ContractMutations,
        ContractDeliveryMutations,
        OrderMutations,
        OrderMoneyMutations,
        LeadMutations,
        TagMutations,
        SegmentMutations,
        EvaluationMutations,
        SurveyMutations,
        SurveySendMutations,
        PoolMutations,
        ActivityMutations,
        VisitMutations,
        JobMutations,
        ScheduleMutations,
        TransferMutations,
    ),
)


# Every type reachable through `node(id)`, so the schema knows them all.
NODE_TYPES = [
    *(Customer, Contact, Interaction, FollowUp, Complaint, ServiceTicket, User),
    *(Product, RequirementAnalysis, Opportunity),
    *(Contract, ContractDelivery, Order),
    *(Lead, Tag, Segment),
    *(RelationshipEvaluation, EvaluationCriterion, SurveyTemplate),
    *(Activity, ActivityAttendee, VisitPlan, VisitRecord, CustomerLifecycleEvent),
    Job,
]


class _MaskErrors(MaskErrors):
    """Masks unexpected errors (``INTERNAL``) and gives every error an ``extensions.code``: errors
    of the request itself (syntax, validation, variables) become ``BAD_USER_INPUT``."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return processed


def build_schema(settings: Settings, *, tracing: bool = False) -> strawberry.Schema:
    limits = settings.graphql
    extensions: list[Any] = [
        # Classes or factories only: an instance would be shared by concurrent requests.
        functools.partial(QueryDepthLimiter, max_depth=limits.max_depth),
        functools.partial(MaxAliasesLimiter, max_alias_count=limits.max_aliases),
        functools.partial(MaxTokensLimiter, max_token_count=5_000),
        functools.partial(
            CostLimiter, max_cost=limits.max_cost, default_page=20, max_page=limits.max_page_size
        ),
        functools.partial(_MaskErrors, should_mask_error=should_mask),
    ]
    if tracing:
        extensions.append(SafeOpenTelemetryExtension)
    introspection = (
        limits.introspection if limits.introspection is not None else not settings.is_production
    )
    if not introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=NODE_TYPES,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
