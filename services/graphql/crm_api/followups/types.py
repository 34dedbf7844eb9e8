"""The FollowUp type."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_api import enums as E
from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.permissions import requires
from crm_api.related import customer_of, user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.followups.models import FollowUp as M

if TYPE_CHECKING:
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "scheduled_at": Col(M.scheduled_at, sortable=True),
    "remind_at": Col(M.remind_at, sortable=True),
    "status": Col(M.status, E.FollowUpStatusEnum),
    "done_at": Col(M.done_at, sortable=True),
    "content": Col(M.content, filterable=False),
    "result": Col(M.result, filterable=False),
    "customer_feedback": Col(M.customer_feedback, filterable=False),
    "next_follow_up_at": Col(M.next_follow_up_at, sortable=True),
    "version": Col(M.version, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "updated_at": Col(M.updated_at, sortable=True),
    "deleted_at": Col(M.deleted_at),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "owner_id": Col(M.owner_id),
}


@strawberry.type(description="A follow-up on a customer (客户跟进记录), planned or done.")
class FollowUp(Node):
    scheduled_at: datetime.datetime
    remind_at: datetime.datetime | None = strawberry.field(
        description="When the owner is reminded."
    )
    status: E.FollowUpStatusEnum
    done_at: datetime.datetime | None
    content: str | None
    result: str | None
    customer_feedback: str | None
    next_follow_up_at: datetime.datetime | None
    version: int = strawberry.field(
        description="Send it back on update; a stale one is a CONFLICT."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    _customer_id: strawberry.Private[uuid.UUID]
    _owner_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: M) -> FollowUp:
        return cls(
            id=strawberry.ID(to_global_id("FollowUp", row.id)),
            _customer_id=row.customer_id,
            _owner_id=row.owner_id,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(description="The customer followed up.", extensions=requires("customer:read"))
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="Who follows up (and is reminded).")
    async def owner(self, info: Info) -> User | None:
        return await user_of(info, self._owner_id)
