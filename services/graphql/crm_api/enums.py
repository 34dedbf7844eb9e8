"""GraphQL enums mirroring the domain's: UPPER_CASE names, the domain's values behind them."""

from __future__ import annotations

import enum
import functools
from typing import Any

import strawberry

from crm_core.activities import models as activities
from crm_core.complaints import models as complaints
from crm_core.contacts.models import ContactChannel
from crm_core.contracts import models as contracts
from crm_core.customers import models as cm
from crm_core.evaluations.models import Recommendation
from crm_core.followups.models import FollowUpStatus
from crm_core.interactions.models import InteractionChannel
from crm_core.leads.models import LeadStatus
from crm_core.opportunities.models import OpportunityOutcome
from crm_core.orders import models as orders
from crm_core.pool.models import PoolReason
from crm_core.requirements import models as requirements
from crm_core.surveys import models as surveys
from crm_core.tenants.models import Role
from crm_core.tickets import models as tickets
from crm_core.visits import models as visits


@functools.cache
def gql_enum(core: type[enum.Enum], description: str | None = None) -> Any:
    mirrored = enum.Enum(core.__name__, {m.name.upper(): m.value for m in core})  # type: ignore[misc]
    return strawberry.enum(mirrored, description=description)


def value_of(member: enum.Enum | None) -> Any:
    return None if member is None else member.value


def to_gql(gql: Any, core_member: enum.Enum | str | None) -> Any:
    if core_member is None:
        return None
    return gql(core_member.value if isinstance(core_member, enum.Enum) else core_member)


CustomerKind = gql_enum(cm.CustomerKind, "Company or individual.")
CustomerGrade = gql_enum(cm.CustomerGrade, "A (most valuable) to E.")
LifecycleStage = gql_enum(cm.LifecycleStage)
CustomerSource = gql_enum(cm.CustomerSource, "Where the customer came from.")
CreditRating = gql_enum(cm.CreditRating)
PaymentHabit = gql_enum(cm.PaymentHabit)
ServiceMode = gql_enum(cm.ServiceMode, "Preferred way of being served.")
Gender = gql_enum(cm.Gender)
AreaType = gql_enum(cm.AreaType)
IncomeBand = gql_enum(cm.IncomeBand)
ContactChannelEnum = gql_enum(ContactChannel)
RoleEnum = gql_enum(Role)
InteractionChannelEnum = gql_enum(InteractionChannel, "How the contact with the customer was made.")
FollowUpStatusEnum = gql_enum(FollowUpStatus)
ComplaintKindEnum = gql_enum(complaints.ComplaintKind)
ComplaintSeverityEnum = gql_enum(complaints.ComplaintSeverity, "Sets the default SLA due time.")
ComplaintStatusEnum = gql_enum(
    complaints.ComplaintStatus,
    "OPEN → IN_PROGRESS → RESOLVED → CLOSED; RESOLVED → IN_PROGRESS reopens; CLOSED is final.",
)
TicketPriorityEnum = gql_enum(tickets.TicketPriority)
TicketStatusEnum = gql_enum(
    tickets.TicketStatus,
    "NEW → ASSIGNED → IN_PROGRESS → RESOLVED → CLOSED; RESOLVED → IN_PROGRESS reopens; "
    "CLOSED is final.",
)
LeadStatusEnum = gql_enum(
    LeadStatus,
    "NEW → CONTACTED → QUALIFIED | UNQUALIFIED; UNQUALIFIED → CONTACTED reopens; QUALIFIED → "
    "CONVERTED only by convertLead; CONVERTED is final.",
)
RequirementPriorityEnum = gql_enum(requirements.RequirementPriority)
RequirementStatusEnum = gql_enum(
    requirements.RequirementStatus,
    "PROPOSED → ACCEPTED | REJECTED; ACCEPTED → IN_PROGRESS | REJECTED | PROPOSED; IN_PROGRESS → "
    "IMPLEMENTED | REJECTED; IMPLEMENTED → IN_PROGRESS reopens; REJECTED → PROPOSED.",
)
OpportunityOutcomeEnum = gql_enum(
    OpportunityOutcome, "Follows the stage: the funnel's WON and LOST stages close the opportunity."
)
ActivityKindEnum = gql_enum(activities.ActivityKind)
ActivityStatusEnum = gql_enum(
    activities.ActivityStatus, "PLANNED → DONE | CANCELLED; DONE and CANCELLED are final."
)
AttendeeStatusEnum = gql_enum(
    activities.AttendeeStatus,
    "INVITED, REGISTERED and ATTENDED hold a seat against the capacity; ABSENT and CANCELLED "
    "free it.",
)
VisitPlanStatusEnum = gql_enum(
    visits.VisitPlanStatus,
    "PLANNED → DONE | CANCELLED (recording the visit marks its plan DONE); both are final.",
)
VisitOutcomeEnum = gql_enum(
    visits.VisitOutcome,
    "A deal done (成交), B promising, C visit again, D no hope, E keep watching.",
)
ContractStatusEnum = gql_enum(
    contracts.ContractStatus,
    "DRAFT → ACTIVE → COMPLETED | TERMINATED | EXPIRED (also by date); the last three are final.",
)
AcceptanceStatusEnum = gql_enum(contracts.AcceptanceStatus, "The customer's acceptance (验收).")
OrderStatusEnum = gql_enum(
    orders.OrderStatus,
    "DRAFT → CONFIRMED → SHIPPED → COMPLETED; DRAFT and CONFIRMED may be CANCELLED.",
)
PaymentMethodEnum = gql_enum(orders.PaymentMethod)
EvaluationRecommendationEnum = gql_enum(
    Recommendation, "What to do with the relationship: develop, maintain or end it."
)
SurveyKindEnum = gql_enum(surveys.SurveyKind)
SurveyLanguageEnum = gql_enum(surveys.SurveyLanguage)
SurveyTriggerEnum = gql_enum(surveys.SurveyTrigger, "What sends a survey.")
SurveyQuestionKindEnum = gql_enum(surveys.QuestionKind)
PoolReasonEnum = gql_enum(PoolReason, "How a customer came into the shared pool (公海).")
