"""The objects a record points to (its customer, contact, owner or other member), loaded through
the per-request DataLoaders: one batched statement per kind, however many records ask."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from crm_api.context import Info
from crm_api.errors import graphql_error
from crm_api.users import User
from crm_core.errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from crm_api.contacts.types import Contact
    from crm_api.customers.types import Customer


# Related lists on a record are bounded; the cost limit counts ``first`` as their size.
MAX_RELATED = 100


def related_size(first: int) -> int:
    """``first`` of a related list, checked against the bound."""
    if not 0 <= first <= MAX_RELATED:
        raise graphql_error(
            DomainError.one(
                "first", ErrorCode.LIMIT_EXCEEDED, f"page size must be 0..{MAX_RELATED}"
            )
        )
    return first


async def customer_of(info: Info, pk: uuid.UUID | None) -> Customer | None:
    """The customer, personal data masked as the viewer's permissions say; None when it is gone
    or outside the viewer's scope."""
    # Imported here: the customer type imports nearly every other type.
    from crm_api.customers.types import Customer

    if pk is None:
        return None
    row = await info.context.loaders.customer_by_id.load(pk)
    return Customer.from_model(row, info.context.mask_personal) if row is not None else None


async def contact_of(info: Info, pk: uuid.UUID | None) -> Contact | None:
    from crm_api.contacts.types import Contact

    if pk is None:
        return None
    row = await info.context.loaders.contact_by_id.load(pk)
    return Contact.from_model(row, info.context.mask_personal) if row is not None else None


async def user_of(info: Info, pk: uuid.UUID | None) -> User | None:
    """A member of the company (owner, assignee, visitor…)."""
    if pk is None:
        return None
    row = await info.context.loaders.user_by_id.load(pk)
    return User.from_model(row) if row is not None else None
