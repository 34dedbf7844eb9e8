"""The CustomerLifecycleEvent type: one change of a customer's lifecycle stage."""

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
from crm_core.lifecycle.models import CustomerLifecycleEvent as M

if TYPE_CHECKING:
    from crm_api.customers.types import Customer

FIELDS: dict[str, Col] = {
    "from_stage": Col(M.from_stage, E.LifecycleStage),
    "to_stage": Col(M.to_stage, E.LifecycleStage),
    "changed_at": Col(M.changed_at, sortable=True),
    "reason": Col(M.reason, filterable=False),
}
# Columns used by filters but exposed as objects or global ids, not scalars.
HIDDEN: dict[str, Col] = {
    "id": Col(M.id, sortable=True),
    "customer_id": Col(M.customer_id),
    "changed_by": Col(M.changed_by),
}


@strawberry.type(
    description="A change of a customer's lifecycle stage (客户生命周期): from what, to what, "
    "when, by whom and why. Written automatically with the change; read-only."
)
class CustomerLifecycleEvent(Node):
    from_stage: E.LifecycleStage | None = strawberry.field(
        description="Null on the event that records the stage the customer was created with."
    )
    to_stage: E.LifecycleStage
    changed_at: datetime.datetime
    reason: str | None = strawberry.field(
        description="The `lifecycleReason` sent with the change, if any."
    )
    _customer_id: strawberry.Private[uuid.UUID]
    _changed_by: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: M) -> CustomerLifecycleEvent:
        return cls(
            id=strawberry.ID(to_global_id("CustomerLifecycleEvent", row.id)),
            _customer_id=row.customer_id,
            _changed_by=row.changed_by,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(
        description="The customer whose stage changed.", extensions=requires("customer:read")
    )
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("crm_api.customers.types")] | None:
        return await customer_of(info, self._customer_id)

    @strawberry.field(description="Who changed it; null for the system or an integration.")
    async def changed_by(self, info: Info) -> User | None:
        return await user_of(info, self._changed_by)
