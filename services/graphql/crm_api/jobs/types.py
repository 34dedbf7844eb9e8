"""The Job type: a long background job's state, progress and outcome."""

from __future__ import annotations

import datetime
import enum
import uuid

import strawberry
from strawberry.scalars import JSON

from crm_api.columns import Col, read_fields
from crm_api.context import Info
from crm_api.related import user_of
from crm_api.relay import Node, to_global_id
from crm_api.users import User
from crm_core.jobs.models import Job as M
from crm_core.jobs.models import JobStatus as S


@strawberry.enum(description="Where a job is in its life.")
class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"


def _status(value: S) -> JobStatus:
    return JobStatus(value.value)


FIELDS: dict[str, Col] = {
    "kind": Col(M.kind, sortable=True),
    "status": Col(M.status, convert=_status, sortable=True),
    "params": Col(M.params, filterable=False),
    "progress_done": Col(M.progress_done, filterable=False),
    "progress_total": Col(M.progress_total, filterable=False),
    "result": Col(M.result, filterable=False),
    "error": Col(M.error, filterable=False),
    "attempts": Col(M.attempts, filterable=False),
    "max_attempts": Col(M.max_attempts, filterable=False),
    "cancel_requested": Col(M.cancel_requested, filterable=False),
    "created_at": Col(M.created_at, sortable=True),
    "started_at": Col(M.started_at, sortable=True),
    "finished_at": Col(M.finished_at, sortable=True),
    "heartbeat_at": Col(M.heartbeat_at, filterable=False),
}
HIDDEN: dict[str, Col] = {"id": Col(M.id, sortable=True), "started_by": Col(M.started_by)}


@strawberry.type(
    description="A long background job (a backup, an import, a whole-tenant scan). Failed "
    "attempts are retried with exponential backoff up to `maxAttempts`; then the job is "
    "dead-lettered (`DEAD`, the error kept) and can be re-run with `retryJob`."
)
class Job(Node):
    kind: str = strawberry.field(description="What the job does, e.g. `backups.create_backup`.")
    status: JobStatus
    params: JSON = strawberry.field(description="The job's parameters, as enqueued.")
    progress_done: int = strawberry.field(description="Units done so far.")
    progress_total: int | None = strawberry.field(description="Units in all, when known.")
    result: JSON | None = strawberry.field(description="What the job reported when it succeeded.")
    error: str | None = strawberry.field(description="The last failure, kept after dead-lettering.")
    attempts: int
    max_attempts: int
    cancel_requested: bool
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    heartbeat_at: datetime.datetime | None = strawberry.field(
        description="Last sign of life of the worker running it."
    )
    started_by_id: strawberry.Private[uuid.UUID | None] = None

    @classmethod
    def from_model(cls, row: M) -> Job:
        return cls(
            id=strawberry.ID(to_global_id("Job", row.id)),
            started_by_id=row.started_by,
            **read_fields(row, FIELDS),
        )

    @strawberry.field(description="Who started it; null for jobs the system started.")
    async def started_by(self, info: Info) -> User | None:
        return await user_of(info, self.started_by_id)
