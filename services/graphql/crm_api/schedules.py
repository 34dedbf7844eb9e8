"""GraphQL: a tenant admin's schedules for periodic work (``settings:manage``).

``jobSchedules`` reads the company's schedules (whole-tenant cleansing, the duplicate scan) with
the time zone they are read in and when each runs next; ``setJobSchedules`` changes them (a partial
update: what is left out keeps its value). The scheduler queues the jobs (``jobs``) when due.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from crm_api.context import Info
from crm_api.enums import gql_enum
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_core import schedules as core
from crm_core.identity.principal import Principal

PERMISSION = "settings:manage"
ScheduleFrequency = gql_enum(core.ScheduleFrequency, "How often a periodic job runs.")
Weekday = gql_enum(core.Weekday)


@strawberry.type(description="When one periodic job runs, in the company's time zone.")
class JobSchedule:
    enabled: bool
    frequency: ScheduleFrequency  # type: ignore[valid-type]
    every_hours: int | None = strawberry.field(description="For EVERY_N_HOURS: 2, 3, 4, 6, 8, 12.")
    time_of_day: str = strawberry.field(
        description="HH:MM: the time of a daily or weekly run, the minute past the hour of an "
        "hourly one, the first run of the day for every N hours."
    )
    weekday: Weekday = strawberry.field(description="For WEEKLY.")  # type: ignore[valid-type]
    next_run_at: datetime | None = strawberry.field(description="Null while disabled.")

    @classmethod
    def of(cls, s: core.Schedule, time_zone: str, now: datetime) -> JobSchedule:
        return cls(
            enabled=s.enabled,
            frequency=ScheduleFrequency(s.frequency.value),
            every_hours=s.every_hours,
            time_of_day=s.time_of_day,
            weekday=Weekday(s.weekday.value),
            next_run_at=core.next_slot(s, core.zone(time_zone), now) if s.enabled else None,
        )


@strawberry.type(description="The company's schedules for periodic whole-company jobs.")
class JobSchedules:
    time_zone: str = strawberry.field(description="The company's time zone the times are in.")
    backup: JobSchedule = strawberry.field(
        description="The company's backup, then retention (default: daily at 00:30; nothing "
        "runs while the backup policy is off)."
    )
    cleansing: JobSchedule = strawberry.field(
        description="Cleansing of every customer (default: daily at 02:00)."
    )
    duplicate_scan: JobSchedule = strawberry.field(
        description="The duplicate scan (default: weekly on Sunday at 03:00)."
    )
    pool_reclaim: JobSchedule = strawberry.field(
        description="Customers nobody followed up for the pool rules' reclaimAfterDays go back "
        "to the shared pool (default: daily at 01:00; nothing runs while that rule is off)."
    )

    @classmethod
    def of(cls, s: core.Schedules, time_zone: str) -> JobSchedules:
        now = datetime.now(UTC)
        return cls(
            time_zone=time_zone,
            backup=JobSchedule.of(s.backup, time_zone, now),
            cleansing=JobSchedule.of(s.cleansing, time_zone, now),
            duplicate_scan=JobSchedule.of(s.duplicate_scan, time_zone, now),
            pool_reclaim=JobSchedule.of(s.pool_reclaim, time_zone, now),
        )


@strawberry.input(description="A change to one schedule: what is left out keeps its value.")
class JobScheduleInput:
    enabled: bool | None = UNSET
    frequency: ScheduleFrequency | None = UNSET  # type: ignore[valid-type]
    every_hours: int | None = strawberry.field(
        default=UNSET, description="Needed for EVERY_N_HOURS: 2, 3, 4, 6, 8 or 12."
    )
    time_of_day: str | None = strawberry.field(default=UNSET, description="HH:MM")
    weekday: Weekday | None = UNSET  # type: ignore[valid-type]


@strawberry.input
class JobSchedulesInput:
    backup: JobScheduleInput | None = UNSET
    cleansing: JobScheduleInput | None = UNSET
    duplicate_scan: JobScheduleInput | None = UNSET
    pool_reclaim: JobScheduleInput | None = UNSET


@strawberry.type
class SetJobSchedulesPayload:
    job_schedules: JobSchedules | None
    errors: list[UserError]


@strawberry.type
class ScheduleQueries:
    @strawberry.field(
        description="When the company's periodic jobs run.", extensions=requires(PERMISSION)
    )
    async def job_schedules(self, info: Info) -> JobSchedules:
        ctx = info.context
        async with ctx.tenant_db.read() as session:
            s, tz = await core.get_schedules(session, ctx.require_principal().tenant.id)
        return JobSchedules.of(s, tz)


@strawberry.type
class ScheduleMutations:
    @strawberry.mutation(
        description="Change when the company's periodic jobs run.", extensions=requires(PERMISSION)
    )
    async def set_job_schedules(
        self, info: Info, input: JobSchedulesInput
    ) -> SetJobSchedulesPayload:
        async def work(session: AsyncSession, who: Principal) -> tuple[core.Schedules, str]:
            return await core.set_schedules(session, who, input_data(input))

        found, errors = await run(info, work)
        return SetJobSchedulesPayload(
            job_schedules=JobSchedules.of(*found) if found is not None else None, errors=errors
        )
