"""The ``jobs`` table (tenant schema): one row per long job, its state, progress and outcome.

The row, not the queue, is the truth about a job. Every status change is a conditional UPDATE
(``WHERE status = … AND attempts = …``), so a duplicate or stale message can never move a job twice,
and a worker that lost its claim (its heartbeat went stale and the job was requeued) can no longer
write the outcome.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    column,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import IdMixin, TenantBase, str_enum


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    dead = "dead"
    cancelled = "cancelled"


FINISHED = frozenset({JobStatus.succeeded, JobStatus.failed, JobStatus.dead, JobStatus.cancelled})
# What ``retryJob`` may re-run: a job that gave up (dead letter) or failed for good.
RERUNNABLE = frozenset({JobStatus.failed, JobStatus.dead})


class Job(IdMixin, TenantBase):
    __tablename__ = "jobs"

    kind: Mapped[str] = mapped_column(String(80), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), nullable=False, default=JobStatus.queued
    )
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # A member of the tenant (core.users; no foreign key across schemas); None for system jobs.
    started_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # When the current attempt may start (the backoff of a retry); the sweep re-sends the message
    # of a job still queued long after this (a message lost with a Redis that kept nothing).
    scheduled_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_non_negative"),
        CheckConstraint(
            "progress_done >= 0 AND (progress_total IS NULL OR progress_total >= 0)",
            name="progress_non_negative",
        ),
        # One job per effect: a second enqueue with the same key returns the first job.
        Index(
            "uq_jobs_idempotency_key",
            "idempotency_key",
            unique=True,
            postgresql_where=column("idempotency_key").is_not(None),
        ),
        # Lists (newest first, keyset) and "my jobs".
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_started_by_created_at", "started_by", "created_at"),
        # What the sweep scans: running jobs by heartbeat, queued ones by schedule.
        Index(
            "ix_jobs_unfinished",
            "status",
            "heartbeat_at",
            postgresql_where=column("status").in_(["queued", "running"]),
        ),
        # Dead letters, for operators across tenants.
        Index("ix_jobs_dead", "finished_at", postgresql_where=column("status") == "dead"),
    )
