"""Job list inputs."""

from __future__ import annotations

import enum

import strawberry

from crm_api.filters import DateTimeFilter, IDFilter, StringFilter, enum_filter
from crm_api.jobs.types import JobStatus
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "Job", "started_by": "User"}
JobStatusFilter = enum_filter(JobStatus)


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class JobFilter:
    and_: list[JobFilter] | None = strawberry.field(name="and", default=None)
    or_: list[JobFilter] | None = strawberry.field(name="or", default=None)
    not_: JobFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    kind: StringFilter | None = None
    status: JobStatusFilter | None = None  # type: ignore[valid-type]
    started_by: IDFilter | None = None
    created_at: DateTimeFilter | None = None
    started_at: DateTimeFilter | None = None
    finished_at: DateTimeFilter | None = None


@strawberry.enum
class JobOrderField(enum.Enum):
    CREATED_AT = "created_at"
    STARTED_AT = "started_at"
    FINISHED_AT = "finished_at"
    KIND = "kind"
    STATUS = "status"


@strawberry.input
class JobOrderBy:
    field: JobOrderField
    direction: OrderDirection = OrderDirection.DESC
    nulls: NullsOrder | None = None
