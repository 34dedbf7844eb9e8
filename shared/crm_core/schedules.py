"""The company's schedules for periodic whole-tenant work (tenant settings key ``schedules``).

Each job (``backup``, ``cleansing``, ``duplicate_scan``, ``pool_reclaim``) has: ``enabled``; a ``frequency`` — ``hourly``,
``every_n_hours`` (with ``every_hours``, a divisor of 24, so the hours are the same every day),
``daily`` or ``weekly`` (with ``weekday``); and ``time_of_day`` (``HH:MM``) in the company's time
zone (``core.tenants.timezone``): the time of a daily or weekly run, the minute past the hour of an
hourly one, the first run of the day for every N hours. Product defaults: the backup daily at 00:30
(while the company's backup policy is enabled; retention follows it), cleansing daily at 02:00,
the duplicate scan weekly on Sunday at 03:00, the shared pool's reclaim of customers nobody followed
up (when the company's pool rules set ``reclaim_after_days``) daily at 01:00 — the quiet hours of a
company in its own time zone.

When a job is due (``due_slot``, pure): the latest scheduled time at or before now is *the slot*;
the job is due if the slot is later than the job's last run (the newest ``jobs`` row of its kind,
whoever started it) and than the company's creation. So a restarted scheduler neither sends a slot
again (the row is there) nor skips one missed while it was down (the latest missed slot runs once,
at the next tick; earlier missed ones are not piled up). A new company waits for its first slot;
a schedule changed to a time already past today runs at once if nothing ran since.

The scheduler (``crm_worker.scheduler``) checks every tenant each tick (a minute by default) and
enqueues the job with the idempotency key ``schedule:<job>:<slot>``: the unique index on
``jobs.idempotency_key`` makes two schedulers (or a retry) create one job, whose durable message is
sent after the commit. A Redis key per tenant and slot spares the database the check once handled.

Local times that do not exist (the hour skipped when clocks go forward) run at the same instant
as an hour earlier would on the old offset, i.e. just after the jump; a time that happens twice
(clocks go back) runs at its first occurrence.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.audit import service as audit
from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import Principal
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job
from crm_core.messaging.outbox import Dispatcher, unit_of_work
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Tenant, TenantStatus
from crm_core.validation import parse

log = logging.getLogger(__name__)

SETTING: Final = "schedules"
CLEANSING: Final = "cleansing"
DUPLICATE_SCAN: Final = "duplicate_scan"
POOL_RECLAIM: Final = "pool_reclaim"
BACKUP: Final = "backup"
JOBS: Final = (BACKUP, CLEANSING, DUPLICATE_SCAN, POOL_RECLAIM)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ScheduleFrequency(StrEnum):
    hourly = "hourly"
    every_n_hours = "every_n_hours"
    daily = "daily"
    weekly = "weekly"


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


WEEKDAYS: Final = tuple(Weekday)  # date.weekday() order: Monday is 0
EVERY_HOURS: Final = (2, 3, 4, 6, 8, 12)  # divisors of 24 (1 is hourly, 24 daily)
TimeOfDay = Annotated[str, Field(pattern=_HHMM.pattern, description="HH:MM, 24-hour clock")]
EveryHours = Annotated[int, Field(ge=2, le=12)]


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    frequency: ScheduleFrequency = ScheduleFrequency.daily
    every_hours: EveryHours | None = None
    time_of_day: TimeOfDay = "02:00"
    weekday: Weekday = Weekday.sunday


DEFAULTS: Final[dict[str, Schedule]] = {
    BACKUP: Schedule(frequency=ScheduleFrequency.daily, time_of_day="00:30"),
    CLEANSING: Schedule(frequency=ScheduleFrequency.daily, time_of_day="02:00"),
    DUPLICATE_SCAN: Schedule(
        frequency=ScheduleFrequency.weekly, weekday=Weekday.sunday, time_of_day="03:00"
    ),
    POOL_RECLAIM: Schedule(frequency=ScheduleFrequency.daily, time_of_day="01:00"),
}


class Schedules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backup: Schedule = DEFAULTS[BACKUP]
    cleansing: Schedule = DEFAULTS[CLEANSING]
    duplicate_scan: Schedule = DEFAULTS[DUPLICATE_SCAN]
    pool_reclaim: Schedule = DEFAULTS[POOL_RECLAIM]

    def of(self, job: str) -> Schedule:
        value = getattr(self, job)
        assert isinstance(value, Schedule)
        return value


class ScheduleFields(BaseModel):
    """A partial update of one schedule: what is left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    frequency: ScheduleFrequency | None = None
    every_hours: EveryHours | None = None
    time_of_day: TimeOfDay | None = None
    weekday: Weekday | None = None


class SchedulesFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backup: ScheduleFields | None = None
    cleansing: ScheduleFields | None = None
    duplicate_scan: ScheduleFields | None = None
    pool_reclaim: ScheduleFields | None = None


def schedules_from(tenant_settings: Mapping[str, Any]) -> Schedules:
    """The stored schedules; a malformed stored one falls back to its product default.

    Other keys under ``schedules`` (``notifications_seconds``, read by the upkeep loop) are not
    ours and are left alone."""
    stored = tenant_settings.get(SETTING)
    if not isinstance(stored, dict):
        return Schedules()
    found: dict[str, Schedule] = {}
    for job in JOBS:
        value = stored.get(job)
        if isinstance(value, dict):
            try:
                found[job] = Schedule.model_validate(value)
            except ValidationError:
                log.warning("stored %s schedule is malformed; using the default", job)
    return Schedules(**found)


def _check(job: str, s: Schedule) -> None:
    """Rules across fields, each error naming the field a person has to change."""
    if s.frequency is ScheduleFrequency.every_n_hours:
        if s.every_hours is None:
            raise DomainError.one(
                f"{job}.every_hours",
                ErrorCode.REQUIRED,
                "needed when the frequency is every N hours",
            )
        if s.every_hours not in EVERY_HOURS:
            raise DomainError.one(
                f"{job}.every_hours",
                ErrorCode.INVALID,
                f"one of {', '.join(map(str, EVERY_HOURS))} (so the hours repeat each day)",
            )


def apply_changes(current: Schedules, data: Mapping[str, Any]) -> Schedules:
    """``current`` with the partial update ``data``; DomainError naming the field otherwise."""
    parsed = parse(SchedulesFields, dict(data))
    merged: dict[str, Schedule] = {}
    for job in JOBS:
        if job not in parsed.model_fields_set:
            merged[job] = current.of(job)
            continue
        fields = getattr(parsed, job)
        if fields is None:
            raise DomainError.one(job, ErrorCode.REQUIRED, "cannot be empty")
        changes = {n: getattr(fields, n) for n in fields.model_fields_set}
        for name, value in changes.items():
            if value is None and name != "every_hours":
                raise DomainError.one(f"{job}.{name}", ErrorCode.REQUIRED, "cannot be empty")
        if (
            changes.get("frequency", current.of(job).frequency)
            is not ScheduleFrequency.every_n_hours
        ):
            changes.setdefault("every_hours", None)  # meaningless for the other frequencies
        schedule = current.of(job).model_copy(update=changes)
        _check(job, schedule)
        merged[job] = Schedule.model_validate(schedule.model_dump())
    return Schedules(**merged)


# ---------------------------------------------------------------- when (pure)


def zone(name: str | None) -> ZoneInfo:
    """The company's time zone; UTC for a missing or unknown name (never an exception here)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local_times(s: Schedule, day: date) -> list[time]:
    hour, minute = (int(p) for p in s.time_of_day.split(":"))
    match s.frequency:
        case ScheduleFrequency.hourly:
            return [time(h, minute) for h in range(24)]
        case ScheduleFrequency.every_n_hours:
            step = s.every_hours or 24
            return sorted(time((hour + k * step) % 24, minute) for k in range(24 // step))
        case ScheduleFrequency.daily:
            return [time(hour, minute)]
        case ScheduleFrequency.weekly:
            return [time(hour, minute)] if WEEKDAYS[day.weekday()] is s.weekday else []


def _instants(s: Schedule, tz: ZoneInfo, days: Sequence[date]) -> list[datetime]:
    return sorted(
        datetime.combine(day, t, tzinfo=tz).astimezone(UTC)
        for day in days
        for t in _local_times(s, day)
    )


def _days_around(s: Schedule, tz: ZoneInfo, now: datetime, sign: int) -> list[date]:
    today = now.astimezone(tz).date()
    span = 8 if s.frequency is ScheduleFrequency.weekly else 2
    return [today + timedelta(days=sign * d) for d in range(-1, span)]


def last_slot(s: Schedule, tz: ZoneInfo, now: datetime) -> datetime:
    """The latest scheduled instant at or before ``now`` (UTC)."""
    past = [at for at in _instants(s, tz, _days_around(s, tz, now, -1)) if at <= now]
    return past[-1]


def next_slot(s: Schedule, tz: ZoneInfo, now: datetime) -> datetime:
    """The first scheduled instant after ``now`` (UTC)."""
    return next(at for at in _instants(s, tz, _days_around(s, tz, now, 1)) if at > now)


def due_slot(
    s: Schedule,
    tz: ZoneInfo,
    now: datetime,
    *,
    last_run: datetime | None = None,
    since: datetime | None = None,
) -> datetime | None:
    """The slot to run now, or None: disabled, or nothing scheduled since ``last_run`` (the
    newest run of the job) and ``since`` (when the company was created)."""
    if not s.enabled:
        return None
    slot = last_slot(s, tz, now)
    for floor in (last_run, since):
        if floor is not None and slot <= floor:
            return None
    return slot


def slot_ttl_seconds(s: Schedule) -> int:
    """How long a slot stays the latest one, plus two hours of daylight-saving slack."""
    hours = {
        ScheduleFrequency.hourly: 1,
        ScheduleFrequency.daily: 24,
        ScheduleFrequency.weekly: 168,
    }.get(s.frequency, s.every_hours or 24)
    return (hours + 2) * 3600


# ---------------------------------------------------------------- settings (service)


async def get_schedules(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[Schedules, str]:
    """The company's schedules and its time zone name."""
    row = (
        await session.execute(
            select(Tenant.settings, Tenant.timezone).where(Tenant.id == tenant_id)
        )
    ).one_or_none()
    if row is None:
        return Schedules(), "UTC"
    return schedules_from(row.settings or {}), row.timezone or "UTC"


async def set_schedules(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any]
) -> tuple[Schedules, str]:
    """Merge the given fields into the company's schedules (the tenant row locked meanwhile)."""
    stmt = select(Tenant).where(Tenant.id == principal.tenant.id).with_for_update()
    tenant = (await session.execute(stmt)).scalar_one()
    before = schedules_from(tenant.settings or {})
    after = apply_changes(before, data)
    stored = tenant.settings.get(SETTING) if tenant.settings else None
    kept = dict(stored) if isinstance(stored, dict) else {}
    tenant.settings = {
        **(tenant.settings or {}),
        SETTING: {**kept, **after.model_dump(mode="json")},
    }
    await session.flush()
    audit.record(
        session,
        principal,
        "update",
        "schedules",
        principal.tenant.id,
        audit.diff(before.model_dump(mode="json"), after.model_dump(mode="json")),
    )
    return after, tenant.timezone or "UTC"


# ---------------------------------------------------------------- the scheduler's part


@dataclass(frozen=True, slots=True)
class TenantSchedules:
    ref: TenantRef
    tz: ZoneInfo
    since: datetime | None
    schedules: Schedules
    # Jobs with nothing to do whatever the time (the pool's reclaim with no reclaim rule): not
    # started, so the company's job list holds no daily no-op.
    idle: frozenset[str] = frozenset()


def idle_jobs(tenant_settings: Mapping[str, Any]) -> frozenset[str]:
    from crm_core.backups.schemas import policy_from
    from crm_core.pool.schemas import rules_from
    from crm_core.settings import BackupSettings

    idle = set()
    if rules_from(dict(tenant_settings)).reclaim_after_days is None:
        idle.add(POOL_RECLAIM)
    if not policy_from(dict(tenant_settings), BackupSettings()).enabled:
        idle.add(BACKUP)
    return frozenset(idle)


async def active_tenants(db: Database) -> list[TenantSchedules]:
    """Tenants whose periodic work runs: active (not suspended or deleted) and provisioned."""
    async with db.core_session() as session:
        rows = await session.execute(
            select(Tenant.id, Tenant.slug, Tenant.timezone, Tenant.provisioned_at, Tenant.settings)
            .where(Tenant.status == TenantStatus.active, Tenant.provisioned_at.is_not(None))
            .order_by(Tenant.id)
        )
        return [
            TenantSchedules(
                TenantRef(r.id, r.slug),
                zone(r.timezone),
                r.provisioned_at,
                schedules_from(r.settings or {}),
                idle_jobs(r.settings or {}),
            )
            for r in rows
        ]


def job_kind(job: str) -> tuple[str, dict[str, Any]]:
    """The job kind and parameters a schedule starts (their modules declare the kinds)."""
    if job == CLEANSING:
        from crm_core.cleansing.tasks import CLEANSE_CUSTOMERS

        return CLEANSE_CUSTOMERS, {"full": False}
    if job == DUPLICATE_SCAN:
        from crm_core.dedup.service import KINDS
        from crm_core.dedup.tasks import SCAN_DUPLICATES

        return SCAN_DUPLICATES, {"kinds": sorted(KINDS)}
    if job == BACKUP:
        from crm_core.backups.tasks import SCHEDULED

        return SCHEDULED, {}
    if job == POOL_RECLAIM:
        from crm_core.pool.tasks import RECLAIM

        return RECLAIM, {}
    raise LookupError(job)


def idempotency_key(job: str, slot: datetime) -> str:
    return f"schedule:{job}:{slot.astimezone(UTC):%Y%m%dT%H%MZ}"


def slot_key(namespace: str, job: str, tenant_id: uuid.UUID, slot: datetime) -> str:
    return f"{namespace}:scheduler:{job}:{tenant_id}:{int(slot.timestamp())}"


async def last_run(session: AsyncSession, kind: str) -> datetime | None:
    """When the newest job of ``kind`` was created (manual or scheduled)."""
    stmt = select(func.max(Job.created_at)).where(Job.kind == kind)
    return (await session.execute(stmt)).scalar_one_or_none()


async def run_if_due(
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    namespace: str,
    tenant: TenantSchedules,
    job: str,
    now: datetime,
) -> bool:
    """Enqueue ``job`` for ``tenant`` if its slot is due; True when this call created the job."""
    if job in tenant.idle:
        return False
    schedule = tenant.schedules.of(job)
    slot = due_slot(schedule, tenant.tz, now, since=tenant.since)
    if slot is None:
        return False
    key = slot_key(namespace, job, tenant.ref.id, slot)
    if await redis.exists(key):
        return False
    kind, params = job_kind(job)
    ikey = idempotency_key(job, slot)
    created = False
    async with unit_of_work(db.tenant(tenant.ref), dispatcher) as session:
        previous = await last_run(session, kind)
        taken = await session.scalar(select(Job.id).where(Job.idempotency_key == ikey))
        if taken is None and due_slot(schedule, tenant.tz, now, last_run=previous) is not None:
            # A second scheduler racing us inserts nothing: the unique key answers its job (made
            # in the other transaction, so not stamped with this transaction's now()).
            row = await jobs.enqueue(
                session, Principal.system(tenant.ref), kind, params, idempotency_key=ikey
            )
            created = row.created_at == await session.scalar(select(func.now()))
    await redis.set(key, "1", ex=slot_ttl_seconds(schedule))
    if created:
        log.info("tenant %s: %s due at %s, job queued", tenant.ref.id, job, slot.isoformat())
    return created


async def fan_out_due(
    *,
    db: Database,
    redis: Redis,
    dispatcher: Dispatcher,
    namespace: str,
    now: datetime | None = None,
    tenants: Sequence[TenantSchedules] | None = None,
) -> dict[str, int]:
    """One tick: every active tenant's due jobs, one tenant at a time. A tenant whose check fails
    (a schema mid-migration) is logged and tried again next tick; the others go on."""
    at = now or datetime.now(UTC)
    sent = dict.fromkeys(JOBS, 0)
    for tenant in tenants if tenants is not None else await active_tenants(db):
        for job in JOBS:
            try:
                sent[job] += await run_if_due(db, redis, dispatcher, namespace, tenant, job, at)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("schedule %s failed for tenant %s", job, tenant.ref.id)
    return sent
