"""GraphQL enums mirroring the domain's: UPPER_CASE names, the domain's values behind them."""

from __future__ import annotations

import enum
import functools
from typing import Any

import strawberry

from crm_core.complaints import models as complaints
from crm_core.contacts.models import ContactChannel
from crm_core.customers import models as cm
from crm_core.followups.models import FollowUpStatus
from crm_core.interactions.models import InteractionChannel
from crm_core.tenants.models import Role
from crm_core.tickets import models as tickets


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
