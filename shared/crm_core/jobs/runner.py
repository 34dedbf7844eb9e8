"""Running jobs: ``@job_actor(kind, max_retries=…)`` turns ``async def handler(ctx) -> dict`` into
a Dramatiq actor that keeps the job's row true.

One message runs one attempt (``job_id``, ``attempt``). The runner:

1. refuses a tenant that is no longer active: the job ends ``cancelled`` with a clear error and
   nothing else is touched;
2. claims the job (``queued`` → ``running``, a conditional UPDATE): a duplicate or stale message
   finds nothing to claim and is a no-op, so delivery twice has one effect;
3. runs the handler under a time limit while a heartbeat task stamps ``heartbeat_at`` (the
   scheduler's sweep requeues a job whose heartbeat stops: its worker died) and picks up a
   cancellation request;
4. ends the job ``succeeded`` (or ``cancelled`` if asked), or on an exception schedules the next
   attempt with exponential backoff (its message goes through the durable outbox in the same
   transaction) until ``max_retries`` are spent, then dead-letters it (``dead``, error kept,
   re-runnable with ``retryJob``). ``JobFailed`` ends it ``failed`` at once (retrying cannot help).

Handlers must be idempotent per effect (unique keys, upserts, one transaction per chunk): an attempt
interrupted by a crash is run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from crm_core.db.engine import Database, TenantDatabase
from crm_core.identity import scopes
from crm_core.identity.principal import Principal
from crm_core.jobs import notify, service
from crm_core.jobs.models import Job, JobStatus
from crm_core.jobs.schemas import KINDS, Handler, JobKind
from crm_core.messaging.actors import WorkerRuntime, system_actor
from crm_core.messaging.outbox import unit_of_work
from crm_core.tenancy import TenantRef, bind_log_tenant
from crm_core.tenants.models import Membership, Tenant, TenantStatus

log = logging.getLogger(__name__)

# Dramatiq's own retries are for the runner's infrastructure failing (the database unreachable
# while claiming or recording); the job's attempts are counted and delayed in its row.
INFRA_RETRIES = 20


class JobFailed(Exception):
    """Raised by a handler for a failure no retry can fix: the job ends ``failed`` at once."""


@dataclass
class JobContext:
    tenant: TenantRef
    principal: Principal
    job_id: uuid.UUID
    params: dict[str, Any]
    db: TenantDatabase
    attempt: int
    _beat: _Heartbeat = field(repr=False)
    # The worker's runtime (settings, database, dispatcher) for handlers that need more than
    # their tenant's sessions.
    runtime: WorkerRuntime | None = field(default=None, repr=False)

    async def report(self, done: int, total: int | None = None) -> None:
        """Progress (``done`` of ``total`` units); also a heartbeat."""
        await self._beat.beat(done=done, total=total)

    async def cancelled(self) -> bool:
        """True once someone asked to cancel, or the job was taken from this worker: stop soon."""
        await self._beat.beat()
        return self._beat.stop_requested


class _Heartbeat:
    def __init__(self, tdb: TenantDatabase, job_id: uuid.UUID, attempt: int) -> None:
        self._tdb, self._job_id, self._attempt = tdb, job_id, attempt
        self.cancel_requested = False
        self.lost = False

    @property
    def stop_requested(self) -> bool:
        return self.cancel_requested or self.lost

    async def beat(self, *, done: int | None = None, total: int | None = None) -> None:
        async with self._tdb.transaction() as session:
            b = await service.heartbeat(
                session, self._job_id, self._attempt, done=done, total=total
            )
        self.lost = self.lost or not b.owned
        self.cancel_requested = self.cancel_requested or b.cancel_requested

    async def run(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.beat()
            except Exception:  # a missed beat is not fatal; a long silence is (the sweep)
                log.warning("job %s: heartbeat failed", self._job_id, exc_info=True)


def job_actor(
    kind: str,
    *,
    max_retries: int,
    queue: str = "default",
    time_limit_ms: int = 3_600_000,
    min_backoff_ms: int = 5_000,
    max_backoff_ms: int = 600_000,
    permission: str | None = None,
    notify_on_success: bool = False,
) -> Callable[[Handler], Handler]:
    """Declare a job kind and its handler. ``max_retries`` is explicit: how many times a failed
    attempt is retried before the job is dead-lettered."""
    if "." not in kind:
        raise ValueError("job kinds are actor names: <domain>.<verb_noun>")
    if max_retries < 0:
        raise ValueError("max_retries must be >= 0")

    def decorate(handler: Handler) -> Handler:
        spec = JobKind(
            kind=kind,
            queue=queue,
            handler=handler,
            max_retries=max_retries,
            time_limit_ms=time_limit_ms,
            min_backoff_ms=min_backoff_ms,
            max_backoff_ms=max_backoff_ms,
            permission=permission,
            notify_on_success=notify_on_success,
        )
        if kind in KINDS and KINDS[kind].handler is not handler:
            raise ValueError(f"job kind {kind} declared twice")
        KINDS[kind] = spec

        async def actor(*, runtime: WorkerRuntime, db: Database, **kwargs: Any) -> None:
            await run_message(spec, runtime, db, **kwargs)

        actor.__name__ = handler.__name__
        system_actor(
            kind,
            queue_name=queue,
            max_retries=INFRA_RETRIES,
            min_backoff_ms=1_000,
            max_backoff_ms=60_000,
            # The runner enforces the job's limit itself (and records it); Dramatiq's is a backstop.
            time_limit_ms=time_limit_ms + 60_000,
        )(actor)
        return handler

    return decorate


async def _tenant(db: Database, tenant_id: uuid.UUID) -> tuple[TenantRef, TenantStatus] | None:
    async with db.core_session() as session:
        row = (
            await session.execute(
                select(Tenant.slug, Tenant.status, Tenant.provisioned_at).where(
                    Tenant.id == tenant_id
                )
            )
        ).one_or_none()
    if row is None or row.provisioned_at is None:
        return None
    return TenantRef(id=tenant_id, slug=row.slug), row.status


async def _principal(db: Database, tenant: TenantRef, job: Job, spec: JobKind) -> Principal | str:
    """Whom the job acts for: the user who started it (still a member, still allowed), or the
    system for jobs nobody started. A string is the reason it may not run."""
    if job.started_by is None:
        return Principal.system(tenant)
    async with db.core_session() as session:
        role = (
            await session.execute(
                select(Membership.role).where(
                    Membership.tenant_id == tenant.id,
                    Membership.user_id == job.started_by,
                    Membership.is_active.is_(True),
                )
            )
        ).scalar_one_or_none()
    if role is None:
        return "the user who started this job is no longer an active member"
    principal = Principal(user_id=job.started_by, tenant=tenant, role=role)
    if spec.permission and not principal.allows(spec.permission):
        return f"the user who started this job may no longer {spec.permission}"
    return await scopes.resolve(db, principal)


def _parse(kwargs: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID, int] | None:
    try:
        return (
            uuid.UUID(str(kwargs["tenant_id"])),
            uuid.UUID(str(kwargs["job_id"])),
            int(kwargs.get("attempt", 1)),
        )
    except (KeyError, ValueError, TypeError):
        return None


async def run_message(spec: JobKind, runtime: WorkerRuntime, db: Database, **kwargs: Any) -> None:
    parsed = _parse(kwargs)
    if parsed is None:
        log.error("job %s: dropping a malformed message %r", spec.kind, sorted(kwargs))
        return
    tenant_id, job_id, attempt = parsed
    bind_log_tenant(TenantRef(id=tenant_id, slug=""))
    try:
        found = await _tenant(db, tenant_id)
        if found is None:
            log.warning(
                "job %s %s: tenant %s does not exist; dropped", spec.kind, job_id, tenant_id
            )
            return
        tenant, status = found
        bind_log_tenant(tenant)
        tdb = db.tenant(tenant)
        if status is not TenantStatus.active:
            # The job row is the only thing written: the tenant's data is not touched.
            async with tdb.transaction() as session:
                ended = await service.refuse(
                    session,
                    job_id,
                    JobStatus.cancelled,
                    f"the company was {status.value} after this job was queued; nothing was done",
                )
            log.warning("job %s %s refused: tenant %s (%s)", spec.kind, job_id, tenant.id, ended)
            return
        await _run_attempt(spec, runtime, db, tdb, tenant, job_id, attempt)
    finally:
        bind_log_tenant(None)


async def _run_attempt(
    spec: JobKind,
    runtime: WorkerRuntime,
    db: Database,
    tdb: TenantDatabase,
    tenant: TenantRef,
    job_id: uuid.UUID,
    attempt: int,
) -> None:
    async with tdb.transaction() as session:
        job = await service.claim(session, job_id, attempt)
    if job is None:
        log.info(
            "job %s %s attempt %d: nothing to claim (duplicate or stale)",
            spec.kind,
            job_id,
            attempt,
        )
        return
    log.info("job %s %s attempt %d/%d started", spec.kind, job_id, attempt, job.max_attempts)
    who = await _principal(db, tenant, job, spec)
    if isinstance(who, str):
        await _end(spec, runtime, tdb, job, attempt, JobStatus.failed, error=who)
        return
    settings = runtime.settings
    beat = _Heartbeat(tdb, job_id, attempt)
    ctx = JobContext(
        tenant=tenant,
        principal=who,
        job_id=job_id,
        params=dict(job.params),
        db=tdb,
        attempt=attempt,
        _beat=beat,
        runtime=runtime,
    )
    beater = asyncio.create_task(beat.run(settings.jobs.heartbeat_seconds))
    try:
        result = await asyncio.wait_for(spec.handler(ctx), timeout=spec.time_limit_ms / 1000)
    except JobFailed as exc:
        await _end(spec, runtime, tdb, job, attempt, JobStatus.failed, error=str(exc) or "failed")
        return
    except Exception as exc:
        error = (
            f"time limit of {spec.time_limit_ms / 1000:.0f} s exceeded"
            if isinstance(exc, TimeoutError)
            else f"{type(exc).__name__}: {exc}"
        )
        log.warning("job %s %s attempt %d failed: %s", spec.kind, job_id, attempt, error)
        if beat.cancel_requested:
            await _end(spec, runtime, tdb, job, attempt, JobStatus.cancelled, error=error)
        elif attempt >= job.max_attempts:
            await _end(spec, runtime, tdb, job, attempt, JobStatus.dead, error=error)
        else:
            async with unit_of_work(tdb, runtime.dispatcher) as session:
                await service.schedule_retry(
                    session, job_id, attempt, error, spec.backoff_ms(attempt)
                )
        return
    finally:
        beater.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beater
    if beat.cancel_requested:
        await _end(spec, runtime, tdb, job, attempt, JobStatus.cancelled, result=result)
    else:
        await _end(spec, runtime, tdb, job, attempt, JobStatus.succeeded, result=result)


async def _end(
    spec: JobKind,
    runtime: WorkerRuntime,
    tdb: TenantDatabase,
    job: Job,
    attempt: int,
    status: JobStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    async with unit_of_work(tdb, runtime.dispatcher) as session:
        ended = await service.finish(session, job.id, attempt, status, result=result, error=error)
        if ended is not None and (
            status in (JobStatus.failed, JobStatus.dead) or spec.notify_on_success
        ):
            await notify.job_ended(session, tdb.tenant, ended)
    if ended is None:
        log.warning(
            "job %s %s attempt %d: lost its claim before it ended", spec.kind, job.id, attempt
        )
    else:
        log.info("job %s %s attempt %d ended %s", spec.kind, job.id, attempt, status.value)
