"""``node(id:)``: any object by global id, through the same loaders and permissions as its type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from crm_api.complaints.types import Complaint
from crm_api.contacts.types import Contact
from crm_api.context import Info
from crm_api.customers.types import Customer
from crm_api.errors import as_graphql_errors
from crm_api.followups.types import FollowUp
from crm_api.interactions.types import Interaction
from crm_api.relay import Node, from_global_id
from crm_api.tickets.types import ServiceTicket
from crm_api.users import User
from crm_core.errors import Forbidden

Resolver = Callable[[Info, Any], Awaitable[Node | None]]


async def _customer(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.customer_by_id.load(pk)
    return Customer.from_model(row, info.context.mask_personal) if row else None


async def _contact(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.contact_by_id.load(pk)
    return Contact.from_model(row, info.context.mask_personal) if row else None


async def _interaction(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.interaction_by_id.load(pk)
    return Interaction.from_model(row) if row else None


async def _follow_up(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.follow_up_by_id.load(pk)
    return FollowUp.from_model(row) if row else None


async def _complaint(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.complaint_by_id.load(pk)
    return Complaint.from_model(row) if row else None


async def _service_ticket(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.service_ticket_by_id.load(pk)
    return ServiceTicket.from_model(row) if row else None


async def _user(info: Info, pk: Any) -> Node | None:
    row = await info.context.loaders.user_by_id.load(pk)
    return User.from_model(row) if row else None


RESOLVERS: dict[str, tuple[str | None, Resolver]] = {
    "Customer": ("customer:read", _customer),
    "Contact": ("contact:read", _contact),
    "Interaction": ("interaction:read", _interaction),
    "FollowUp": ("followup:read", _follow_up),
    "Complaint": ("complaint:read", _complaint),
    "ServiceTicket": ("ticket:read", _service_ticket),
    "User": (None, _user),
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id; null when missing or not yours.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        async def load() -> Node | None:
            principal = info.context.require_principal()
            type_name, pk = from_global_id(id)
            entry = RESOLVERS.get(type_name)
            if entry is None:
                return None
            permission, resolve = entry
            if permission is not None and not principal.allows(permission):
                raise Forbidden(f"your role lacks {permission}")
            return await resolve(info, pk)

        return await as_graphql_errors(load)
