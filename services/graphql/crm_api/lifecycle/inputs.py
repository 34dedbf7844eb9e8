"""Lifecycle history inputs: filter and ordering (the history is written by customer updates)."""

from __future__ import annotations

import enum

import strawberry

from crm_api import enums as E
from crm_api.filters import DateTimeFilter, IDFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "CustomerLifecycleEvent", "customer_id": "Customer", "changed_by": "User"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class CustomerLifecycleEventFilter:
    and_: list[CustomerLifecycleEventFilter] | None = strawberry.field(name="and", default=None)
    or_: list[CustomerLifecycleEventFilter] | None = strawberry.field(name="or", default=None)
    not_: CustomerLifecycleEventFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    customer_id: IDFilter | None = None
    changed_by: IDFilter | None = None
    from_stage: enum_filter(E.LifecycleStage) | None = None  # type: ignore[valid-type]
    to_stage: enum_filter(E.LifecycleStage) | None = None  # type: ignore[valid-type]
    changed_at: DateTimeFilter | None = None


@strawberry.enum
class CustomerLifecycleEventOrderField(enum.Enum):
    CHANGED_AT = "changed_at"


@strawberry.input
class CustomerLifecycleEventOrderBy:
    field: CustomerLifecycleEventOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None
