"""The Customer type."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.errors import graphql_error
from crm_api.permissions import requires
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.cleansing.normalize import mask_email, mask_phone
from crm_core.customers.models import Customer as M
from crm_core.errors import DomainError, ErrorCode

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
    from crm_api.tags.types import Tag
    from crm_api.tickets.types import ServiceTicket
    from crm_api.timeline import TimelineConnection, TimelineKind
    from crm_api.visits.types import VisitPlan, VisitRecord

# Related lists on a customer are bounded; the cost limit counts ``first`` as their size.
MAX_RELATED = 100

FIELDS: dict[str, Col] = {
    "code": Col(M.code, sortable=True),
    "name": Col(M.name, sortable=True),
    "kind": Col(M.kind, E.CustomerKind),
    "industry": Col(M.industry, sortable=True),
    "grade": Col(M.grade, E.CustomerGrade, sortable=True),
    "tags": Col(M.tags),
    "lifecycle_stage": Col(M.lifecycle_stage, E.LifecycleStage, sortable=True),
    "source": Col(M.source, E.CustomerSource),
    "phone": Col(M.phone),
    "phone_raw": Col(M.phone_raw, filterable=False),
    "email": Col(M.email),
    "website": Col(M.website, filterable=False),
    "address_line": Col(M.address_line, filterable=False),
    "country": Col(M.country),
    "province": Col(M.province, sortable=True),
    "city": Col(M.city, sortable=True),
    "district": Col(M.district),
    "street": Col(M.street, filterable=False),
    "postal_code": Col(M.postal_code),
    "credit_rating": Col(M.credit_rating, E.CreditRating),
    "payment_habit": Col(M.payment_habit, E.PaymentHabit),
    "preferred_products": Col(M.preferred_products, filterable=False),
    "purchase_frequency": Col(M.purchase_frequency, filterable=False),
    "preferred_service_mode": Col(M.preferred_service_mode, E.ServiceMode),
    "gender": Col(M.gender, E.Gender),
    "birth_date": Col(M.birth_date),
    "area_type": Col(M.area_type, E.AreaType),
    "income_band": Col(M.income_band, E.IncomeBand),
    "distance_km": Col(M.distance_km, sortable=True),
    "notes": Col(M.notes, filterable=False),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
    "cleansed_at": Col(M.cleansed_at, filterable=False),
    # The shared pool (crm_api.pool): set while the customer has no owner.
    "pool_entered_at": Col(M.pool_entered_at, sortable=True),
    "pool_reason": Col(M.pool_reason, E.PoolReasonEnum),
}
# Personal data: masked for roles without the personal-data permission, never filterable by them.
PERSONAL = frozenset({"phone", "phone_raw", "email", "birth_date"})


def masked_values(values: dict[str, object]) -> dict[str, object]:
    return {
        "phone": mask_phone(str(values["phone"])) if values["phone"] else None,
        "phone_raw": mask_phone(str(values["phone_raw"])) if values["phone_raw"] else None,
        "email": mask_email(str(values["email"])) if values["email"] else None,
        "birth_date": None,
    }


# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "owner_id": Col(M.owner_id),
    "previous_owner_id": Col(M.previous_owner_id),
}


@strawberry.type(
    description="A date that matters to the customer (founding day, contract anniversary…)."
)
class ImportantDate:
    label: str
    date: datetime.date


@strawberry.type(description="A time when the customer does not want visits.")
class VisitWindow:
    weekday: int | None = strawberry.field(description="1 = Monday; empty = every day.")
    start: str
    end: str
    note: str | None


@strawberry.type(description="A value cleansing could not fix, for a person to review.")
class ReviewFlag:
    field: str
    code: str
    message: str


@strawberry.type(description="A company or person the tenant sells to or serves.")
class Customer(Node):
    code: str
    name: str
    kind: E.CustomerKind
    industry: str | None
    grade: E.CustomerGrade | None
    tags: list[str]
    lifecycle_stage: E.LifecycleStage
    source: E.CustomerSource | None
    phone: str | None = strawberry.field(description="E.164, e.g. +8613812345678.")
    phone_raw: str | None = strawberry.field(description="The phone number as it was typed.")
    email: str | None
    website: str | None
    address_line: str | None = strawberry.field(
        description="The one-line address as typed, if any."
    )
    country: str | None
    province: str | None
    city: str | None
    district: str | None
    street: str | None
    postal_code: str | None
    credit_rating: E.CreditRating | None
    payment_habit: E.PaymentHabit | None
    preferred_products: list[str]
    purchase_frequency: str | None
    preferred_service_mode: E.ServiceMode | None
    gender: E.Gender | None
    birth_date: datetime.date | None
    area_type: E.AreaType | None
    income_band: E.IncomeBand | None
    distance_km: Decimal | None
    notes: str | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    cleansed_at: datetime.datetime | None
    important_dates: list[ImportantDate]
    do_not_visit: list[VisitWindow]
    review_flags: list[ReviewFlag]
    pool_entered_at: datetime.datetime | None = strawberry.field(
        description="When it last went into the shared pool (公海); null while owned."
    )
    pool_reason: E.PoolReasonEnum | None = strawberry.field(
        description="Why it is in the pool; null while owned."
    )
    _owner_id: strawberry.Private[uuid.UUID | None]
    _previous_owner_id: strawberry.Private[uuid.UUID | None]
    _pk: strawberry.Private[uuid.UUID]
    _sealed: strawberry.Private[dict[str, bytes | None]]

    @classmethod
    def from_model(cls, row: M, mask: bool) -> Customer:
        values = read_fields(row, FIELDS)
        if mask:
            values.update(masked_values(values))
        return cls(
            id=strawberry.ID(to_global_id("Customer", row.id)),
            _pk=row.id,
            _owner_id=row.owner_id,
            _previous_owner_id=row.previous_owner_id,
            _sealed={"tax_id": row.tax_id_encrypted, "bank_account": row.bank_account_encrypted},
            important_dates=[
                ImportantDate(label=d["label"], date=datetime.date.fromisoformat(d["date"]))
                for d in row.important_dates
            ],
            do_not_visit=[
                VisitWindow(
                    weekday=w.get("weekday"), start=w["start"], end=w["end"], note=w.get("note")
                )
                for w in row.do_not_visit
            ],
            review_flags=[
                ReviewFlag(field=f["field"], code=f["code"], message=f["message"])
                for f in row.review_flags
            ],
            **values,
        )

    async def _unseal(self, info: Info, name: str) -> str | None:
        blob = self._sealed.get(name)
        if blob is None:
            return None
        value = (await info.context.cipher()).decrypt(blob, field=name)
        return "****" + value[-4:] if info.context.mask_personal else value

    @strawberry.field(
        description="Tax or national id (encrypted at rest; masked without the personal-data permission)."
    )
    async def tax_id(self, info: Info) -> str | None:
        return await self._unseal(info, "tax_id")

    @strawberry.field(
        description="Bank account (encrypted at rest; masked without the personal-data permission)."
    )
    async def bank_account(self, info: Info) -> str | None:
        return await self._unseal(info, "bank_account")

    @strawberry.field(
        description="Customer 360: contact records, follow-ups, complaints, opportunity stage "
        "changes, contracts, tickets, orders and visits, newest first (the kinds your role may "
        "read); keyset-paginated."
    )
    async def timeline(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        kinds: list[Annotated[TimelineKind, strawberry.lazy("crm_api.timeline")]] | None = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("crm_api.timeline")]:
        from crm_api.timeline import customer_timeline

        return await customer_timeline(info, self._pk, first, after, kinds)

    @strawberry.field(description="The sales rep who owns the customer.")
    async def owner(self, info: Info) -> User | None:
        if self._owner_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self._owner_id)
        return User.from_model(row) if row is not None else None

    @strawberry.field(
        description="The catalogue entries of this customer's tags (colour, category); tags not "
        "in the catalogue are left out.",
        extensions=requires("tag:read"),
    )
    async def tag_details(
        self, info: Info
    ) -> list[Annotated[Tag, strawberry.lazy("crm_api.tags.types")]]:
        from crm_api.tags.types import Tag

        rows = await info.context.loaders.tag_by_name.load_many([t.lower() for t in self.tags])
        return [Tag.from_model(r) for r in dict.fromkeys(r for r in rows if r is not None)]

    @strawberry.field(
        description="Leads converted into this customer (in your data scope), latest first.",
        extensions=requires("lead:read"),
    )
    async def leads(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Lead, strawberry.lazy("crm_api.leads.types")]]:
        from crm_api.leads.types import Lead

        key = (self._pk, _related_size(first))
        rows = await info.context.loaders.leads_by_converted_customer_id.load(key)
        return [Lead.from_model(r, info.context.mask_personal) for r in rows]

    @strawberry.field(description="Who owned it before it went into the pool.")
    async def previous_owner(self, info: Info) -> User | None:
        if self._previous_owner_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self._previous_owner_id)
        return User.from_model(row) if row is not None else None

    @strawberry.field(
        description="Relationship evaluations of this customer, latest first.",
        extensions=requires("evaluation:read"),
    )
    async def evaluations(
        self, info: Info, first: int = 20
    ) -> list[Annotated[RelationshipEvaluation, strawberry.lazy("crm_api.evaluations.types")]]:
        from crm_api.evaluations.types import RelationshipEvaluation

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
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
        key = (self._pk, _related_size(first))
        return [Opportunity.from_model(r) for r in await loader.load(key)]

    @strawberry.field(
        description="Contracts with this customer, latest start first.",
        extensions=requires("contract:read"),
    )
    async def contracts(
        self, info: Info, first: int = 20
    ) -> list[Annotated[Contract, strawberry.lazy("crm_api.contracts.types")]]:
        from crm_api.contracts.types import Contract

        key = (self._pk, _related_size(first))
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

        key = (self._pk, _related_size(first))
        return [
            Order.from_model(r) for r in await info.context.loaders.orders_by_customer_id.load(key)
        ]


def _related_size(first: int) -> int:
    if not 0 <= first <= MAX_RELATED:
        raise graphql_error(
            DomainError.one(
                "first", ErrorCode.LIMIT_EXCEEDED, f"page size must be 0..{MAX_RELATED}"
            )
        )
    return first
