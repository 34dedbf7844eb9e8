"""The Lead type."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import contact_of, customer_of, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.cleansing.normalize import mask_email, mask_phone
from crm_core.leads.models import Lead as M

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "name": Col(M.name, sortable=True),
    "company_name": Col(M.company_name, sortable=True),
    "title": Col(M.title),
    "phone": Col(M.phone),
    "phone_raw": Col(M.phone_raw, filterable=False),
    "email": Col(M.email),
    "source": Col(M.source, E.CustomerSource),
    "interests": Col(M.interests),
    "status": Col(M.status, E.LeadStatusEnum),
    "score": Col(M.score, sortable=True),
    "notes": Col(M.notes, filterable=False),
    "province": Col(M.province, sortable=True),
    "city": Col(M.city, sortable=True),
    "converted_at": Col(M.converted_at, sortable=True),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Personal data: masked for roles without the personal-data permission, never filterable by them.
PERSONAL = frozenset({"phone", "phone_raw", "email"})
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "owner_id": Col(M.owner_id),
    "converted_customer_id": Col(M.converted_customer_id),
    "converted_contact_id": Col(M.converted_contact_id),
}


@strawberry.type(
    description="A prospective customer (潜在客户): a person, usually at a company, with contact "
    "data, source, interests, status and score, until converted into a customer."
)
class Lead(Node):
    name: str = strawberry.field(description="The person's name.")
    company_name: str | None
    title: str | None = strawberry.field(description="The person's job title (职位).")
    phone: str | None = strawberry.field(description="E.164, e.g. +8613812345678.")
    phone_raw: str | None = strawberry.field(description="The phone number as it was typed.")
    email: str | None
    source: E.CustomerSource | None
    interests: list[str] = strawberry.field(description="Products or services asked about.")
    status: E.LeadStatusEnum
    score: int = strawberry.field(description="0–100; higher is hotter.")
    notes: str | None
    province: str | None
    city: str | None
    converted_at: datetime.datetime | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _owner_id: strawberry.Private[uuid.UUID | None]
    _customer_id: strawberry.Private[uuid.UUID | None]
    _contact_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M, mask: bool) -> Lead:
        values = read_fields(row, FIELDS)
        if mask:
            for name in ("phone", "phone_raw"):
                values[name] = mask_phone(str(values[name])) if values[name] else None
            values["email"] = mask_email(str(values["email"])) if values["email"] else None
        return cls(
            id=strawberry.ID(to_global_id("Lead", row.id)),
            _owner_id=row.owner_id,
            _customer_id=row.converted_customer_id,
            _contact_id=row.converted_contact_id,
            **values,
        )

    @strawberry.field(description="The sales rep who owns the lead; null in the shared pool.")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)

    @strawberry.field(
        description="The customer the lead became; null until converted (or out of your scope).",
        extensions=requires("customer:read"),
    )
    async def converted_customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(
        description="The contact made from the lead's person; null until converted.",
        extensions=requires("contact:read"),
    )
    async def converted_contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)
