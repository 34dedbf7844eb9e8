"""Inputs of the survey send, response and statistics fields."""

from __future__ import annotations

import datetime
import enum

import strawberry

from crm_api import enums as E
from crm_api.filters import DateTimeFilter, IDFilter, IntFilter, StringFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection
from crm_api.surveys.send_types import SurveySendStatus, SurveySourceKind

SEND_ID_FIELDS = {
    "id": "SurveySend",
    "template": "SurveyTemplate",
    "customer": "Customer",
    "ticket": "ServiceTicket",
    "complaint": "Complaint",
}
RESPONSE_ID_FIELDS = {
    "id": "SurveyResponse",
    "send": "SurveySend",
    "template": "SurveyTemplate",
    "customer": "Customer",
}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class SurveySendFilter:
    and_: list[SurveySendFilter] | None = strawberry.field(name="and", default=None)
    or_: list[SurveySendFilter] | None = strawberry.field(name="or", default=None)
    not_: SurveySendFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    template: IDFilter | None = None
    customer: IDFilter | None = None
    ticket: IDFilter | None = None
    complaint: IDFilter | None = None
    status: enum_filter(SurveySendStatus) | None = None  # type: ignore[valid-type]
    trigger: enum_filter(E.SurveyTriggerEnum) | None = None  # type: ignore[valid-type]
    source_kind: enum_filter(SurveySourceKind) | None = None  # type: ignore[valid-type]
    email: StringFilter | None = None
    expires_at: DateTimeFilter | None = None
    sent_at: DateTimeFilter | None = None
    reminded_at: DateTimeFilter | None = None
    responded_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None


@strawberry.enum
class SurveySendOrderField(enum.Enum):
    CREATED_AT = "created_at"
    SENT_AT = "sent_at"
    RESPONDED_AT = "responded_at"
    EXPIRES_AT = "expires_at"
    STATUS = "status"


@strawberry.input
class SurveySendOrderBy:
    field: SurveySendOrderField
    direction: OrderDirection = OrderDirection.DESC
    nulls: NullsOrder | None = None


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class SurveyResponseFilter:
    and_: list[SurveyResponseFilter] | None = strawberry.field(name="and", default=None)
    or_: list[SurveyResponseFilter] | None = strawberry.field(name="or", default=None)
    not_: SurveyResponseFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    send: IDFilter | None = None
    template: IDFilter | None = None
    customer: IDFilter | None = None
    csat: IntFilter | None = None
    nps: IntFilter | None = None
    submitted_at: DateTimeFilter | None = None


@strawberry.enum
class SurveyResponseOrderField(enum.Enum):
    SUBMITTED_AT = "submitted_at"
    CSAT = "csat"
    NPS = "nps"


@strawberry.input
class SurveyResponseOrderBy:
    field: SurveyResponseOrderField
    direction: OrderDirection = OrderDirection.DESC
    nulls: NullsOrder | None = None


@strawberry.enum(description="How survey statistics are grouped.")
class SurveyStatsGroupBy(enum.Enum):
    CUSTOMER = "customer"
    PRODUCT = "product"
    AGENT = "agent"
    MONTH = "month"


@strawberry.input(description="Which responses the statistics cover.")
class SurveyStatsFilter:
    template: strawberry.ID | None = None
    trigger: E.SurveyTriggerEnum | None = None
    customer: strawberry.ID | None = None
    submitted_from: datetime.datetime | None = strawberry.field(
        default=None, description="Inclusive."
    )
    submitted_to: datetime.datetime | None = strawberry.field(
        default=None, description="Exclusive."
    )
