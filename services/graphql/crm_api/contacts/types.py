"""The Contact type."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.related import customer_of
from crm_api.relay import Node, to_global_id
from crm_core.cleansing.normalize import mask_email, mask_phone
from crm_core.contacts.models import Contact as M

if TYPE_CHECKING:
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "name": Col(M.name, sortable=True),
    "title": Col(M.title, sortable=True),
    "department": Col(M.department),
    "is_primary": Col(M.is_primary, sortable=True),
    "preferred_channel": Col(M.preferred_channel, E.ContactChannelEnum),
    "preferred_time": Col(M.preferred_time, filterable=False),
    "birthday": Col(M.birthday),
    "notes": Col(M.notes, filterable=False),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
PERSONAL = frozenset({"birthday"})


def _masked(value: str | None, mask: Callable[[str], str]) -> str | None:
    return mask(value) if value else None


HIDDEN: dict[str, Col] = {"id": Col(M.id, sortable=True), "customer_id": Col(M.customer_id)}


@strawberry.type
class ContactPhone:
    label: str
    number: str | None = strawberry.field(description="E.164 when the number could be parsed.")
    raw: str | None = strawberry.field(description="As typed.")


@strawberry.type
class ContactEmail:
    label: str
    address: str | None


@strawberry.type
class SocialAccount:
    network: str
    handle: str


@strawberry.type(description="A person at a customer.")
class Contact(Node):
    name: str
    title: str | None = strawberry.field(description="Job title (职位).")
    department: str | None
    is_primary: bool
    preferred_channel: E.ContactChannelEnum | None
    preferred_time: str | None
    birthday: datetime.date | None
    notes: str | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    phones: list[ContactPhone]
    emails: list[ContactEmail]
    social_accounts: list[SocialAccount]
    _customer_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: M, mask: bool) -> Contact:
        values = read_fields(row, FIELDS)
        phones = [
            ContactPhone(label=p["label"], number=p.get("e164"), raw=p.get("raw"))
            for p in row.phones
        ]
        emails = [ContactEmail(label=e["label"], address=e.get("address")) for e in row.emails]
        social = [
            SocialAccount(network=s["network"], handle=s["handle"]) for s in row.social_accounts
        ]
        if mask:
            values["birthday"] = None
            phones = [
                ContactPhone(
                    label=p.label,
                    number=_masked(p.number, mask_phone),
                    raw=_masked(p.raw, mask_phone),
                )
                for p in phones
            ]
            emails = [
                ContactEmail(label=e.label, address=_masked(e.address, mask_email)) for e in emails
            ]
            social = [SocialAccount(network=s.network, handle="***") for s in social]
        return cls(
            id=strawberry.ID(to_global_id("Contact", row.id)),
            _customer_id=row.customer_id,
            phones=phones,
            emails=emails,
            social_accounts=social,
            **values,
        )

    @strawberry.field(description="The customer this person works at.")
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)
