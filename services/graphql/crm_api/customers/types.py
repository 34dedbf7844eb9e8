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
    from crm_api.complaints.types import Complaint
    from crm_api.contacts.types import Contact
    from crm_api.followups.types import FollowUp
    from crm_api.interactions.types import Interaction
    from crm_api.tickets.types import ServiceTicket

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
HIDDEN: dict[str, Col] = {"id": Col(M.id, sortable=True), "owner_id": Col(M.owner_id)}


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
    _owner_id: strawberry.Private[uuid.UUID | None]
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

    @strawberry.field(description="The sales rep who owns the customer.")
    async def owner(self, info: Info) -> User | None:
        if self._owner_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self._owner_id)
        return User.from_model(row) if row is not None else None

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


def _related_size(first: int) -> int:
    if not 0 <= first <= MAX_RELATED:
        raise graphql_error(
            DomainError.one(
                "first", ErrorCode.LIMIT_EXCEEDED, f"page size must be 0..{MAX_RELATED}"
            )
        )
    return first
