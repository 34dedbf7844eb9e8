"""Job use cases: enqueue (row + durable message in the caller's transaction), read, cancel, retry,
and the state transitions the runner and the scheduler's sweep make.

Every transition is one conditional UPDATE: the WHERE clause names the state (and attempt) it
expects, so a duplicate message, a stale worker or two sweeps racing change a job at most once.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.db.engine import TenantDatabase
from crm_core.errors import DomainError, ErrorCode, NotFound
from crm_core.identity.principal import Principal
from crm_core.jobs.models import FINISHED, RERUNNABLE, Job, JobStatus
from crm_core.jobs.schemas import KINDS, kind_of
from crm_core.messaging.outbox import defer

log = logging.getLogger(__name__)

MAX_PARAMS_BYTES = 64_000
MAX_ERROR_CHARS = 4_000
# Who sees every job of the tenant (and may cancel or re-run any); others see their own.
MANAGE = "job:manage"


def _now() -> datetime:
    return datetime.now(UTC)


def _check_params(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise DomainError.one("params", ErrorCode.INVALID, "parameters are a JSON object")
    try:
        encoded = json.dumps(params)
    except (TypeError, ValueError):
        raise DomainError.one("params", ErrorCode.INVALID, "parameters must be JSON") from None
    if len(encoded) > MAX_PARAMS_BYTES:
        raise DomainError.one("params", ErrorCode.TOO_LONG, "parameters are too large")
    return params


def _started_by(principal: Principal) -> uuid.UUID | None:
    return None if principal.user_id.int == 0 else principal.user_id


def send_attempt(
    session: AsyncSession, job: Job, attempt: int, *, at: datetime | None = None
) -> None:
    """The message that runs ``attempt`` of ``job`` (after commit; durable)."""
    spec = kind_of(job.kind)
    defer(session, spec.kind, spec.queue, deliver_at=at, job_id=str(job.id), attempt=attempt)


async def enqueue(
    session: AsyncSession,
    principal: Principal,
    kind: str,
    params: dict[str, Any],
    *,
    idempotency_key: str | None = None,
) -> Job:
    """Write a queued job and its message in the caller's transaction.

    With an ``idempotency_key`` already used, the existing job is returned and nothing is sent."""
    spec = kind_of(kind)
    params = _check_params(params)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise DomainError.one("idempotency_key", ErrorCode.INVALID, "1 to 200 characters")
    values = {
        "id": uuid.uuid4(),
        "kind": kind,
        "params": params,
        "status": JobStatus.queued,
        "progress_done": 0,
        "attempts": 0,
        "max_attempts": spec.max_attempts,
        "idempotency_key": idempotency_key,
        "started_by": _started_by(principal),
        "cancel_requested": False,
    }
    stmt = insert(Job).values(**values)
    if idempotency_key is not None:
        stmt = stmt.on_conflict_do_nothing(
            index_elements=["idempotency_key"], index_where=Job.idempotency_key.is_not(None)
        )
    job = (await session.execute(stmt.returning(Job))).scalar_one_or_none()
    if job is None:
        existing = (
            await session.execute(select(Job).where(Job.idempotency_key == idempotency_key))
        ).scalar_one()
        return existing
    send_attempt(session, job, 1)
    return job


def visible(principal: Principal) -> ColumnElement[bool]:
    """Admins see every job of the tenant; everyone else the jobs they started."""
    if principal.allows(MANAGE):
        return true()
    return Job.started_by == principal.user_id


def base_select(principal: Principal) -> Any:
    return select(Job).where(visible(principal))


async def get(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job | None:
    stmt = select(Job).where(Job.id == job_id, visible(principal))
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_many(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[Job | None]:
    rows = (
        (await session.execute(select(Job).where(Job.id.in_(list(ids)), visible(principal))))
        .scalars()
        .all()
    )
    by_id = {r.id: r for r in rows}
    return [by_id.get(i) for i in ids]


async def _locked(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    stmt = select(Job).where(Job.id == job_id, visible(principal)).with_for_update()
    job = (await session.execute(stmt)).scalar_one_or_none()
    if job is None:
        raise NotFound("id", "job")
    return job


async def cancel(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    """A queued job is cancelled at once; a running one is asked to stop (its handler checks
    ``ctx.cancelled()`` between chunks) and ends ``cancelled``."""
    job = await _locked(session, principal, job_id)
    if job.status in FINISHED:
        raise DomainError.one("id", ErrorCode.INVALID, f"the job has already ended ({job.status})")
    if job.status is JobStatus.queued:
        job.status = JobStatus.cancelled
        job.finished_at = _now()
        job.error = "cancelled before it started"
    job.cancel_requested = True
    await session.flush()
    return job


async def retry(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    """Re-run a dead-lettered or failed job from its first attempt; the last error stays visible
    until the new run ends."""
    job = await _locked(session, principal, job_id)
    if job.status not in RERUNNABLE:
        raise DomainError.one(
            "id",
            ErrorCode.INVALID,
            f"only failed or dead jobs can be re-run (this one is {job.status})",
        )
    job.status = JobStatus.queued
    job.attempts = 0
    job.cancel_requested = False
    job.finished_at = None
    job.heartbeat_at = None
    job.scheduled_at = _now()
    job.max_attempts = kind_of(job.kind).max_attempts
    await session.flush()
    send_attempt(session, job, 1)
    return job


# --- transitions made by the runner ----------------------------------------------------------


def _is(job_id: uuid.UUID, status: JobStatus, attempt: int) -> ColumnElement[bool]:
    return and_(Job.id == job_id, Job.status == status, Job.attempts == attempt)


async def claim(session: AsyncSession, job_id: uuid.UUID, attempt: int) -> Job | None:
    """queued (attempts = attempt - 1) → running (attempts = attempt); None if someone else did,
    the job ended, or this message is stale. The one gate against duplicate delivery."""
    stmt = (
        update(Job)
        .where(_is(job_id, JobStatus.queued, attempt - 1), Job.cancel_requested.is_(False))
        .values(
            status=JobStatus.running,
            attempts=attempt,
            started_at=func.coalesce(Job.started_at, func.now()),
            heartbeat_at=func.now(),
            error=None,
        )
        .returning(Job)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Beat:
    owned: bool  # False: the job was requeued or ended under us; stop working on it
    cancel_requested: bool


async def heartbeat(
    session: AsyncSession,
    job_id: uuid.UUID,
    attempt: int,
    *,
    done: int | None = None,
    total: int | None = None,
) -> Beat:
    values: dict[str, Any] = {"heartbeat_at": func.now()}
    if done is not None:
        values["progress_done"] = max(0, int(done))
    if total is not None:
        values["progress_total"] = max(0, int(total))
    stmt = (
        update(Job)
        .where(_is(job_id, JobStatus.running, attempt))
        .values(**values)
        .returning(Job.cancel_requested)
    )
    flag = (await session.execute(stmt)).scalar_one_or_none()
    return Beat(owned=flag is not None, cancel_requested=bool(flag))


async def finish(
    session: AsyncSession,
    job_id: uuid.UUID,
    attempt: int,
    status: JobStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> Job | None:
    """running → a final status, only for the attempt that owns the job."""
    stmt = (
        update(Job)
        .where(_is(job_id, JobStatus.running, attempt))
        .values(
            status=status,
            result=result,
            error=error[:MAX_ERROR_CHARS] if error else None,
            finished_at=func.now(),
            heartbeat_at=func.now(),
        )
        .returning(Job)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def schedule_retry(
    session: AsyncSession, job_id: uuid.UUID, attempt: int, error: str, delay_ms: int
) -> Job | None:
    """running → queued for ``attempt + 1`` after ``delay_ms``; its message goes out with it."""
    at = _now() + timedelta(milliseconds=delay_ms)
    stmt = (
        update(Job)
        .where(_is(job_id, JobStatus.running, attempt))
        .values(status=JobStatus.queued, error=error[:MAX_ERROR_CHARS], scheduled_at=at)
        .returning(Job)
    )
    job = (await session.execute(stmt)).scalar_one_or_none()
    if job is not None:
        send_attempt(session, job, attempt + 1, at=at)
    return job


async def refuse(session: AsyncSession, job_id: uuid.UUID, status: JobStatus, error: str) -> bool:
    """A job that must not run (its tenant was suspended, its user lost the right): ended with a
    clear error, whatever attempt it was at; nothing else is touched."""
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.status.in_([JobStatus.queued, JobStatus.running]))
        .values(status=status, error=error, finished_at=func.now())
        .returning(Job.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


# --- the scheduler's sweep ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepResult:
    requeued: int = 0
    dead: int = 0
    resent: int = 0


async def sweep(
    tdb: TenantDatabase, *, stale_after_seconds: float, requeue_queued_after_seconds: float
) -> SweepResult:
    """Jobs whose worker died (heartbeat older than ``stale_after_seconds``) go back to the queue
    for their next attempt, or to the dead letters when none is left; queued jobs whose message
    seems lost are sent again (same attempt: a duplicate is a no-op)."""
    now = _now()
    stale = now - timedelta(seconds=stale_after_seconds)
    requeued = dead = resent = 0
    async with tdb.transaction() as session:
        rows = (
            (
                await session.execute(
                    select(Job)
                    .where(
                        or_(
                            and_(Job.status == JobStatus.running, Job.heartbeat_at < stale),
                            and_(
                                Job.status == JobStatus.queued,
                                Job.scheduled_at
                                < now - timedelta(seconds=requeue_queued_after_seconds),
                            ),
                        )
                    )
                    .order_by(Job.heartbeat_at)
                    .limit(500)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        for job in rows:
            if job.kind not in KINDS:
                log.error("job sweep: kind %s is not declared in this process; skipped", job.kind)
                continue
            if job.status is JobStatus.queued:
                job.scheduled_at = now
                send_attempt(session, job, job.attempts + 1)
                resent += 1
            elif job.attempts >= job.max_attempts:
                job.status = JobStatus.dead
                job.finished_at = now
                job.error = "its worker stopped (no heartbeat) and no attempt is left"
                dead += 1
            elif job.cancel_requested:
                job.status = JobStatus.cancelled
                job.finished_at = now
                job.error = "cancelled; its worker stopped"
            else:
                job.status = JobStatus.queued
                job.scheduled_at = now
                job.error = f"attempt {job.attempts}: its worker stopped (no heartbeat)"
                send_attempt(session, job, job.attempts + 1)
                requeued += 1
    return SweepResult(requeued=requeued, dead=dead, resent=resent)
