"""The SurveySend and SurveyResponse types (an invitation to a survey, and its one answer)."""

from __future__ import annotations

import datetime
import enum
import uuid

import strawberry
from strawberry.scalars import JSON

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.complaints.types import Complaint
from crm_api.context import Info
from crm_api.customers.types import Customer
from crm_api.relay import Node, to_global_id
from crm_api.surveys.types import SurveyTemplate
from crm_api.tickets.types import ServiceTicket
from crm_core.cleansing.normalize import mask_email
from crm_core.surveys.models import SurveyResponse as R
from crm_core.surveys.models import SurveySend as M


@strawberry.enum(
    description="Where a survey send is: QUEUED until its link is minted, SENT once "
    "the invitation is in the mail outbox, then RESPONDED or EXPIRED; FAILED when "
    "there was nobody to send to."
)
class SurveySendStatus(enum.Enum):
    QUEUED = "queued"
    SENT = "sent"
    RESPONDED = "responded"
    EXPIRED = "expired"
    FAILED = "failed"


@strawberry.enum(description="What caused a send.")
class SurveySourceKind(enum.Enum):
    TICKET = "ticket"
    COMPLAINT = "complaint"
    PERIODIC = "periodic"
    MANUAL = "manual"


SEND_FIELDS: dict[str, Col] = {
    "status": Col(M.status, lambda v: SurveySendStatus(v.value), sortable=True),
    "trigger": Col(M.trigger, E.SurveyTriggerEnum),
    "source_kind": Col(M.source_kind, lambda v: SurveySourceKind(v.value)),
    "email": Col(M.email),
    "locale": Col(M.locale, filterable=False),
    "expires_at": Col(M.expires_at, sortable=True),
    "sent_at": Col(M.sent_at, sortable=True),
    "reminded_at": Col(M.reminded_at),
    "responded_at": Col(M.responded_at, sortable=True),
    "error": Col(M.error, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
}
SEND_HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "template": Col(M.template_id),
    "customer": Col(M.customer_id),
    "ticket": Col(M.ticket_id),
    "complaint": Col(M.complaint_id),
}
RESPONSE_FIELDS: dict[str, Col] = {
    "csat": Col(R.csat, sortable=True),
    "nps": Col(R.nps, sortable=True),
    "comment": Col(R.comment, filterable=False),
    "answers": Col(R.answers, filterable=False),
    "submitted_at": Col(R.submitted_at, sortable=True),
}
RESPONSE_HIDDEN: dict[str, Col] = {
    "id": Col(R.id, sortable=True),
    "send": Col(R.send_id),
    "template": Col(R.template_id),
    "customer": Col(R.customer_id),
}


async def _template(info: Info, pk: uuid.UUID) -> SurveyTemplate | None:
    row = await info.context.loaders.survey_template_by_id.load(pk)
    return SurveyTemplate.from_model(row) if row is not None else None


async def _customer(info: Info, pk: uuid.UUID) -> Customer | None:
    row = await info.context.loaders.customer_by_id.load(pk)
    return Customer.from_model(row, info.context.mask_personal) if row is not None else None


@strawberry.type(description="One invitation of one customer to a survey, with its own link.")
class SurveySend(Node):
    status: SurveySendStatus
    trigger: E.SurveyTriggerEnum
    source_kind: SurveySourceKind
    email: str | None = strawberry.field(
        description="Where it went (masked without personal-data access)."
    )
    locale: str
    expires_at: datetime.datetime | None = strawberry.field(
        description="When the link stops working."
    )
    sent_at: datetime.datetime | None
    reminded_at: datetime.datetime | None = strawberry.field(
        description="The one reminder, if sent."
    )
    responded_at: datetime.datetime | None
    error: str | None
    created_at: datetime.datetime
    template_id: strawberry.Private[uuid.UUID]
    customer_id: strawberry.Private[uuid.UUID]
    ticket_id: strawberry.Private[uuid.UUID | None]
    complaint_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M, mask: bool) -> SurveySend:
        values = read_fields(row, SEND_FIELDS)
        if mask and values["email"]:
            values["email"] = mask_email(str(values["email"]))
        return cls(
            id=strawberry.ID(to_global_id("SurveySend", row.id)),
            template_id=row.template_id,
            customer_id=row.customer_id,
            ticket_id=row.ticket_id,
            complaint_id=row.complaint_id,
            **values,
        )

    @strawberry.field
    async def template(self, info: Info) -> SurveyTemplate | None:
        return await _template(info, self.template_id)

    @strawberry.field(description="Null when outside your data scope.")
    async def customer(self, info: Info) -> Customer | None:
        return await _customer(info, self.customer_id)

    @strawberry.field(description="The resolved ticket that caused it, if any.")
    async def ticket(self, info: Info) -> ServiceTicket | None:
        if self.ticket_id is None:
            return None
        row = await info.context.loaders.service_ticket_by_id.load(self.ticket_id)
        return ServiceTicket.from_model(row) if row is not None else None

    @strawberry.field(description="The closed complaint that caused it, if any.")
    async def complaint(self, info: Info) -> Complaint | None:
        if self.complaint_id is None:
            return None
        row = await info.context.loaders.complaint_by_id.load(self.complaint_id)
        return Complaint.from_model(row) if row is not None else None


@strawberry.type(description="A customer's answers to one send (at most one per send).")
class SurveyResponse(Node):
    csat: int | None = strawberry.field(description="The first CSAT answer (1–5).")
    nps: int | None = strawberry.field(description="The first NPS answer (0–10).")
    comment: str | None
    answers: JSON = strawberry.field(description="Every answer, by question key.")
    submitted_at: datetime.datetime
    send_id: strawberry.ID = strawberry.field(description="Global id of the SurveySend answered.")
    template_id: strawberry.Private[uuid.UUID]
    customer_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: R) -> SurveyResponse:
        return cls(
            id=strawberry.ID(to_global_id("SurveyResponse", row.id)),
            send_id=strawberry.ID(to_global_id("SurveySend", row.send_id)),
            template_id=row.template_id,
            customer_id=row.customer_id,
            **read_fields(row, RESPONSE_FIELDS),
        )

    @strawberry.field
    async def template(self, info: Info) -> SurveyTemplate | None:
        return await _template(info, self.template_id)

    @strawberry.field(description="Null when outside your data scope.")
    async def customer(self, info: Info) -> Customer | None:
        return await _customer(info, self.customer_id)
