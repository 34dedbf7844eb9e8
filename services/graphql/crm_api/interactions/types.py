"""The Interaction type (a contact record)."""

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
from crm_core.interactions.models import Interaction as M

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "occurred_at": Col(M.occurred_at, sortable=True),
    "channel": Col(M.channel, E.InteractionChannelEnum),
    "subject": Col(M.subject, sortable=True),
    "content": Col(M.content, filterable=False),
    "result": Col(M.result, filterable=False),
    "next_contact_on": Col(M.next_contact_on, sortable=True),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "contact_id": Col(M.contact_id),
    "staff_user_id": Col(M.staff_user_id),
}


@strawberry.type(description="One contact with a customer (客户联系记录): when, how, who, what.")
class Interaction(Node):
    occurred_at: datetime.datetime
    channel: E.InteractionChannelEnum
    subject: str | None
    content: str | None
    result: str | None
    next_contact_on: datetime.date | None = strawberry.field(
        description="When to contact the customer next."
    )
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _customer_id: strawberry.Private[uuid.UUID]
    _contact_id: strawberry.Private[uuid.UUID | None]
    _staff_user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: M) -> Interaction:
        return cls(
            id=strawberry.ID(to_global_id("Interaction", row.id)),
            _customer_id=row.customer_id,
            _contact_id=row.contact_id,
            _staff_user_id=row.staff_user_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(description="The customer contacted.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="The person spoken to.", extensions=requires("contact:read"))
    async def contact(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("crm_api.contacts.types")] | None:
        return await contact_of(info, self._contact_id)

    @strawberry.field(description="Who made the contact.")
    async def staff(self, info: Info) -> User | None:
        return await user_of(info, self._staff_user_id)
