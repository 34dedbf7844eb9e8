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
from crm_api.customers.records import CustomerRecords
from crm_api.permissions import requires
from crm_api.related import user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.cleansing.normalize import mask_email, mask_phone
from crm_core.customers.models import Customer as M

if TYPE_CHECKING:
    from crm_api.tags.types import Tag
    from crm_api.timeline import TimelineConnection, TimelineKind


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
class Customer(CustomerRecords, Node):
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
        "changes, contracts, tickets, orders, visits and survey responses, newest first (the kinds your role may "
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
        return await user_of(info, self._owner_id)

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

    @strawberry.field(description="Who owned it before it went into the pool.")
    async def previous_owner(self, info: Info) -> User | None:
        return await user_of(info, self._previous_owner_id)
