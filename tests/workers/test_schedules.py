"""Per-tenant schedules: when a job is due in the company's time zone (pure), the scheduler's tick
against real Redis and PostgreSQL (only due tenants, never twice, suspended ones skipped, nothing
re-sent after Redis forgets), the GraphQL settings with two tenants, the cleansing job's report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis as redis_lib
import redis.asyncio as aioredis
from crmtest import make_tenant
from sqlalchemy import select

from crm_core import schedules as S
from crm_core.cleansing import tasks as cleansing_tasks
from crm_core.customers.models import Customer
from crm_core.db.engine import Database
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import Principal
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job, JobStatus
from crm_core.jobs.runner import run_message
from crm_core.jobs.schemas import kind_of
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import NullDispatcher
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Tenant, TenantStatus

E = "errors { field code message }"
FIELDS = "enabled frequency everyHours timeOfDay weekday nextRunAt"
GET = f"{{ jobSchedules {{ timeZone cleansing {{ {FIELDS} }} duplicateScan {{ {FIELDS} }} }} }}"
SET = f"""
mutation($i: JobSchedulesInput!) {{
  setJobSchedules(input: $i) {{
    jobSchedules {{ timeZone cleansing {{ {FIELDS} }} duplicateScan {{ {FIELDS} }} }} {E}
  }}
}}"""
CLEANSE = "cleansing.cleanse_customers"
SCAN = "dedup.scan_duplicates"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def schedule(**kw: Any) -> S.Schedule:
    return S.Schedule.model_validate(kw)


# -- when is a job due (pure) --------------------------------------------------------------------


def test_defaults_are_daily_cleansing_and_weekly_scan() -> None:
    s = S.schedules_from({})
    assert (s.cleansing.frequency, s.cleansing.time_of_day) == ("daily", "02:00")
    assert (s.duplicate_scan.frequency, s.duplicate_scan.weekday) == ("weekly", "sunday")
    assert s.duplicate_scan.time_of_day == "03:00"
    assert s.cleansing.enabled and s.duplicate_scan.enabled
    # A malformed stored schedule falls back to its default; the other stays.
    odd = S.schedules_from({"schedules": {"cleansing": {"frequency": "monthly"}, "x": 1}})
    assert odd.cleansing == S.DEFAULTS["cleansing"]


def test_daily_slot_is_in_the_company_time_zone() -> None:
    daily = schedule(frequency="daily", time_of_day="02:00")
    shanghai = ZoneInfo("Asia/Shanghai")  # 02:00 there is 18:00 UTC the day before
    assert S.last_slot(daily, shanghai, utc(2026, 11, 25, 18, 0)) == utc(2026, 11, 25, 18, 0)
    assert S.last_slot(daily, shanghai, utc(2026, 11, 25, 17, 59)) == utc(2026, 11, 24, 18, 0)
    assert S.next_slot(daily, shanghai, utc(2026, 11, 25, 17, 59)) == utc(2026, 11, 25, 18, 0)
    # The same schedule for a company in UTC falls eight hours later.
    assert S.last_slot(daily, ZoneInfo("UTC"), utc(2026, 11, 26, 1, 0)) == utc(2026, 11, 25, 2)
    ran = utc(2026, 11, 24, 18, 0, 7)
    assert S.due_slot(daily, shanghai, utc(2026, 11, 25, 17, 59), last_run=ran) is None
    assert S.due_slot(daily, shanghai, utc(2026, 11, 25, 18, 0), last_run=ran) == utc(
        2026, 11, 25, 18
    )
    # Down across two slots: only the latest runs, once.
    assert S.due_slot(daily, shanghai, utc(2026, 11, 27, 9, 0), last_run=ran) == utc(
        2026, 11, 26, 18
    )


def test_weekly_hourly_and_every_n_hours() -> None:
    weekly = schedule(frequency="weekly", weekday="sunday", time_of_day="03:00")
    new_york = ZoneInfo("America/New_York")  # EST in November: UTC-5
    thursday = utc(2026, 11, 26, 12, 0)
    assert S.last_slot(weekly, new_york, thursday) == utc(2026, 11, 22, 8, 0)
    assert S.next_slot(weekly, new_york, thursday) == utc(2026, 11, 29, 8, 0)
    hourly = schedule(frequency="hourly", time_of_day="09:15")  # quarter past each hour
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: quarter past there is :45 UTC
    assert S.last_slot(hourly, kolkata, utc(2026, 11, 26, 10, 50)) == utc(2026, 11, 26, 10, 45)
    assert S.last_slot(hourly, kolkata, utc(2026, 11, 26, 10, 44)) == utc(2026, 11, 26, 9, 45)
    six = schedule(frequency="every_n_hours", every_hours=6, time_of_day="01:30")
    slots = [S.last_slot(six, ZoneInfo("UTC"), utc(2026, 11, 26, h, 40)) for h in (0, 2, 8, 20)]
    assert [s.hour for s in slots] == [19, 1, 7, 19]
    assert slots[0].day == 25


def test_daylight_saving_gap_and_disabled_and_new_company() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 2026-03-29: 02:00 CET jumps to 03:00 CEST
    daily = schedule(frequency="daily", time_of_day="02:30")
    # 02:30 does not exist that night: it runs at 01:30 UTC (03:30 CEST), once.
    assert S.last_slot(daily, berlin, utc(2026, 3, 29, 2, 0)) == utc(2026, 3, 29, 1, 30)
    assert S.last_slot(daily, berlin, utc(2026, 3, 30, 1, 0)) == utc(2026, 3, 30, 0, 30)
    off = schedule(frequency="hourly", enabled=False)
    assert S.due_slot(off, berlin, utc(2026, 3, 30, 1, 0)) is None
    # A company created after the latest slot waits for the next one.
    hourly = schedule(frequency="hourly", time_of_day="00:00")
    now = utc(2026, 11, 26, 10, 30)
    assert S.due_slot(hourly, berlin, now, since=utc(2026, 11, 26, 10, 5)) is None
    assert S.due_slot(hourly, berlin, now, since=utc(2026, 11, 26, 9, 5)) == utc(2026, 11, 26, 10)
    assert S.zone("Not/AZone") == ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"cleansing": {"time_of_day": "25:00"}}, "cleansing.time_of_day", ErrorCode.INVALID),
        ({"cleansing": {"frequency": "monthly"}}, "cleansing.frequency", ErrorCode.INVALID),
        (
            {"duplicate_scan": {"frequency": "every_n_hours"}},
            "duplicate_scan.every_hours",
            ErrorCode.REQUIRED,
        ),
        (
            {"duplicate_scan": {"frequency": "every_n_hours", "every_hours": 5}},
            "duplicate_scan.every_hours",
            ErrorCode.INVALID,
        ),
        ({"cleansing": {"every_hours": 30}}, "cleansing.every_hours", ErrorCode.INVALID),
        ({"cleansing": {"enabled": None}}, "cleansing.enabled", ErrorCode.REQUIRED),
        ({"cleansing": {"weekday": "someday"}}, "cleansing.weekday", ErrorCode.INVALID),
        ({"cleansing": None}, "cleansing", ErrorCode.REQUIRED),
    ],
)
def test_bad_input_names_the_field(data: dict[str, Any], field: str, code: ErrorCode) -> None:
    with pytest.raises(DomainError) as caught:
        S.apply_changes(S.Schedules(), data)
    assert [(e.field, e.code) for e in caught.value.errors] == [(field, code)]


def test_partial_update_keeps_the_rest() -> None:
    changed = S.apply_changes(
        S.Schedules(), {"duplicate_scan": {"frequency": "every_n_hours", "every_hours": 4}}
    )
    assert changed.cleansing == S.DEFAULTS["cleansing"]
    assert (changed.duplicate_scan.every_hours, changed.duplicate_scan.time_of_day) == (4, "03:00")
    back = S.apply_changes(changed, {"duplicate_scan": {"frequency": "daily"}})
    assert back.duplicate_scan.every_hours is None  # meaningless for daily: cleared


# -- the scheduler against Redis and PostgreSQL --------------------------------------------------


@pytest.fixture
async def async_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(settings.require_redis_url())
    yield client
    await client.aclose()


def sent(client: redis_lib.Redis, namespace: str) -> list[tuple[str, str, str]]:
    """(actor, tenant id, job id) of every message queued under ``namespace``."""
    out = []
    for queue in ("cleansing", "dedup", "pool"):
        for raw in client.hvals(f"{namespace}:{queue}.msgs"):
            m = json.loads(raw)
            out.append((m["actor_name"], m["kwargs"]["tenant_id"], m["kwargs"].get("job_id", "")))
    return sorted(out)


async def set_schedules(db: Database, ref: TenantRef, timezone: str, value: dict[str, Any]) -> None:
    async with db.core_session() as session, session.begin():
        tenant = await session.get(Tenant, ref.id)
        assert tenant is not None
        stored = {"notifications_seconds": 600, **value}
        tenant.settings = {**tenant.settings, "schedules": stored}
        tenant.timezone = timezone


async def jobs_of(db: Database, ref: TenantRef) -> list[Job]:
    async with db.tenant(ref).read() as session:
        return list((await session.execute(select(Job).order_by(Job.created_at))).scalars())


def hhmm(at: datetime, tz: str, minutes: int) -> str:
    return (at.astimezone(ZoneInfo(tz)) + timedelta(minutes=minutes)).strftime("%H:%M")


async def test_due_tenants_get_one_job_per_slot(
    db: Database,
    settings: Settings,
    redis_namespace: str,
    redis_client: redis_lib.Redis,
    async_redis: aioredis.Redis,
) -> None:
    namespace = f"{redis_namespace}-sched"
    broker = build_broker(settings, namespace=namespace)
    dispatcher = BrokerDispatcher(broker)
    due = await make_tenant(db, "sched-due")
    later = await make_tenant(db, "sched-later")
    paused = await make_tenant(db, "sched-paused")
    # Two hours from now, on a whole minute: every company was created before the slots below.
    sim = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    ny, sh = "America/New_York", "Asia/Shanghai"
    due_value = {
        "backup": {"enabled": False},
        "cleansing": {"frequency": "hourly", "time_of_day": "00:00"},
        # Daily, half an hour ago in New York: not due if the time were read as UTC or Shanghai.
        "duplicate_scan": {"frequency": "daily", "time_of_day": hhmm(sim, ny, -30)},
    }
    await set_schedules(db, due.ref, ny, due_value)
    await set_schedules(db, paused.ref, ny, due_value)
    await tenants.set_status(db, paused.ref.slug, TenantStatus.suspended)
    # Same settings shape, another company: its daily slot is 90 minutes after ``sim`` (so after
    # every tick below, the last at most 61 minutes after it; its previous slot was yesterday,
    # before it existed); its scan is off.
    await set_schedules(
        db,
        later.ref,
        sh,
        {
            "backup": {"enabled": False},
            "cleansing": {"frequency": "daily", "time_of_day": hhmm(sim, sh, 90)},
            "duplicate_scan": {"enabled": False},
        },
    )
    # Only this test's companies (the session's others are left alone); the suspended one is
    # not among the active.
    ours = {due.ref.id, later.ref.id, paused.ref.id}
    active = [t for t in await S.active_tenants(db) if t.ref.id in ours]
    assert {t.ref.id for t in active} == {due.ref.id, later.ref.id}
    args: dict[str, Any] = {
        "db": db,
        "redis": async_redis,
        "dispatcher": dispatcher,
        "namespace": namespace,
        "tenants": active,
    }
    nothing = {"backup": 0, "cleansing": 0, "duplicate_scan": 0, "pool_reclaim": 0}
    try:
        assert await S.fan_out_due(**args, now=sim) == {
            "backup": 0,  # off below: this test counts the other jobs
            "cleansing": 1,
            "duplicate_scan": 1,
            "pool_reclaim": 0,
        }
        [cleanse, scan] = sorted(await jobs_of(db, due.ref), key=lambda j: j.kind)
        assert (cleanse.kind, scan.kind) == (CLEANSE, SCAN)
        assert cleanse.started_by is None
        assert scan.params == {"kinds": ["contact", "customer", "lead"]}
        assert cleanse.idempotency_key == f"schedule:cleansing:{sim:%Y%m%dT%H}00Z"
        assert await jobs_of(db, later.ref) == [] and await jobs_of(db, paused.ref) == []
        assert sent(redis_client, namespace) == sorted(
            [(CLEANSE, str(due.ref.id), str(cleanse.id)), (SCAN, str(due.ref.id), str(scan.id))]
        )
        # Next tick: the slots are marked done in Redis.
        assert await S.fan_out_due(**args, now=sim + timedelta(minutes=1)) == nothing
        # Redis forgets (restart without persistence): the jobs table still says it ran.
        for key in redis_client.scan_iter(f"{namespace}:scheduler:*"):
            redis_client.delete(key)
        assert await S.fan_out_due(**args, now=sim + timedelta(minutes=2)) == nothing
        assert len(await jobs_of(db, due.ref)) == 2
        assert len(sent(redis_client, namespace)) == 2
        # The next hourly slot: two schedulers racing (no tick lock) make one job, one message.
        next_hour = sim.replace(minute=0) + timedelta(hours=1, minutes=1)
        results = await asyncio.gather(*(S.fan_out_due(**args, now=next_hour) for _ in range(2)))
        assert sum(r["cleansing"] for r in results) == 1
        assert sum(r["duplicate_scan"] for r in results) == 0
        kinds = [j.kind for j in await jobs_of(db, due.ref)]
        assert sorted(kinds) == [CLEANSE, CLEANSE, SCAN]
        assert len(sent(redis_client, namespace)) == 3
        assert await jobs_of(db, later.ref) == [] and await jobs_of(db, paused.ref) == []
    finally:
        broker.close()


async def test_graphql_schedules_two_tenants(db: Database, gql_as: Any) -> None:
    a = await make_tenant(db, "sched-gql-a")
    b = await make_tenant(db, "sched-gql-b")
    await set_schedules(db, a.ref, "Asia/Shanghai", {})  # keeps notifications_seconds
    admin_a = await gql_as(a.admin_email, a.ref.slug)
    admin_b = await gql_as(b.admin_email, b.ref.slug)
    before = (await admin_b(GET))["jobSchedules"]
    assert before["cleansing"]["frequency"] == "DAILY"
    assert before["cleansing"]["timeOfDay"] == "02:00"
    assert before["duplicateScan"]["weekday"] == "SUNDAY"
    assert before["duplicateScan"]["timeOfDay"] == "03:00"
    changed = (
        await admin_a(
            SET,
            {
                "i": {
                    "cleansing": {"frequency": "EVERY_N_HOURS", "everyHours": 6},
                    "duplicateScan": {"enabled": False},
                }
            },
        )
    )["setJobSchedules"]
    assert changed["errors"] == []
    got = changed["jobSchedules"]
    assert (got["cleansing"]["frequency"], got["cleansing"]["everyHours"]) == ("EVERY_N_HOURS", 6)
    assert got["duplicateScan"]["enabled"] is False and got["duplicateScan"]["nextRunAt"] is None
    assert got["timeZone"] == "Asia/Shanghai" and got["cleansing"]["nextRunAt"]
    assert (await admin_a(GET))["jobSchedules"] == got
    # B's schedules are untouched.
    assert (await admin_b(GET))["jobSchedules"] == before
    async with db.core_session() as session:
        stored = (await session.get(Tenant, a.ref.id)).settings["schedules"]  # type: ignore[union-attr]
        assert stored["notifications_seconds"] == 600  # the upkeep loop's key is kept
    # Bad input: a typed error naming the field, nothing changed.
    bad = (await admin_a(SET, {"i": {"cleansing": {"timeOfDay": "7 am"}}}))["setJobSchedules"]
    assert bad["jobSchedules"] is None
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [
        ("input.cleansing.timeOfDay", "INVALID")
    ]
    bad = (await admin_b(SET, {"i": {"duplicateScan": {"frequency": "EVERY_N_HOURS"}}}))[
        "setJobSchedules"
    ]
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [
        ("input.duplicateScan.everyHours", "REQUIRED")
    ]
    assert (await admin_a(GET))["jobSchedules"] == got
    assert (await admin_b(GET))["jobSchedules"] == before
    # Only admins (settings:manage) see or change them.
    sales = await gql_as(a.sales_email, a.ref.slug)
    denied = (await sales.post(GET)).json()
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


class FakeRuntime:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self._db = db
        self.dispatcher = NullDispatcher()

    async def database(self) -> Database:
        return self._db


async def test_cleansing_job_reports_and_stays_in_its_tenant(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = await make_tenant(db, "sched-clean-a")
    b = await make_tenant(db, "sched-clean-b")
    monkeypatch.setattr(cleansing_tasks, "CHUNK_SIZE", 2)
    rows = [
        {"name": "  明辉　贸易 ", "phone": "021 6888 1234"},  # fixed
        {"name": "星辰科技", "phone": "12"},  # flagged: invalid phone
        {"name": "Clean Co", "email": "a@b.cn"},  # unchanged
    ]
    for ref in (a.ref, b.ref):
        async with db.tenant(ref).transaction() as session:
            for i, row in enumerate(rows):
                session.add(Customer(code=f"S-{i}", kind="company", **row))
    async with db.tenant(a.ref).transaction() as session:
        job = await jobs.enqueue(session, Principal.system(a.ref), CLEANSE, {"full": False})
    runtime = FakeRuntime(settings, db)
    await run_message(
        kind_of(CLEANSE), runtime, db, tenant_id=str(a.ref.id), job_id=str(job.id), attempt=1
    )
    async with db.tenant(a.ref).read() as session:
        done = await session.get(Job, job.id)
        assert done is not None and done.status is JobStatus.succeeded, done.error if done else None
        assert done.result is not None
        # All three changed (names folded, phones parsed or moved aside, search texts filled);
        # one is left for a person: its phone cannot be a number.
        assert done.result == {
            "checked": 3,
            "changed": 3,
            "flagged": 1,
            "full": False,
            "cancelled": False,
        }
        assert (done.progress_done, done.progress_total) == (3, 3)
    async with db.tenant(b.ref).read() as session:
        untouched = (await session.execute(select(Customer.cleansed_at))).scalars().all()
        assert untouched and all(c is None for c in untouched)
    # Nothing stale the second time; a full pass re-checks all and changes nothing.
    report = await cleansing_tasks.cleanse_all(db.tenant(a.ref), default_region="CN", full=False)
    assert report["checked"] == 0
    full = await cleansing_tasks.cleanse_all(db.tenant(a.ref), default_region="CN", full=True)
    assert (full["checked"], full["changed"], full["flagged"]) == (3, 0, 1)


async def test_pool_reclaim_runs_on_schedule_only_where_the_rule_is_on(
    db: Database,
    settings: Settings,
    redis_namespace: str,
    redis_client: redis_lib.Redis,
    async_redis: aioredis.Redis,
) -> None:
    """The shared pool's rule "back to the pool after N days without follow-up" is applied by a
    scheduled job: started only for companies that set the rule, and reclaiming only theirs."""
    from crm_core.pool.tasks import RECLAIM

    on = await make_tenant(db, "sched-pool-on")
    off = await make_tenant(db, "sched-pool-off")
    sim = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    hourly = {
        "backup": {"enabled": False},
        "cleansing": {"enabled": False},
        "duplicate_scan": {"enabled": False},
        "pool_reclaim": {"frequency": "hourly", "time_of_day": "00:00"},
    }
    long_ago = datetime.now(UTC) - timedelta(days=60)
    for t in (on, off):
        await set_schedules(db, t.ref, "Asia/Shanghai", hourly)
        async with db.tenant(t.ref).transaction() as session:
            session.add(
                Customer(
                    code="P-1",
                    name="沉睡客户",
                    kind="company",
                    owner_id=t.admin.user_id,
                    created_at=long_ago,
                )
            )
    async with db.core_session() as session, session.begin():
        tenant = await session.get(Tenant, on.ref.id)
        assert tenant is not None
        tenant.settings = {**tenant.settings, "pool_rules": {"reclaim_after_days": 30}}
    ours = {on.ref.id, off.ref.id}
    active = [t for t in await S.active_tenants(db) if t.ref.id in ours]
    namespace = f"{redis_namespace}-pool"
    broker = build_broker(settings, namespace=namespace)
    try:
        found = await S.fan_out_due(
            db=db,
            redis=async_redis,
            dispatcher=BrokerDispatcher(broker),
            namespace=namespace,
            tenants=active,
            now=sim,
        )
    finally:
        broker.close()
    assert found == {"backup": 0, "cleansing": 0, "duplicate_scan": 0, "pool_reclaim": 1}
    assert await jobs_of(db, off.ref) == []
    [job] = await jobs_of(db, on.ref)
    assert job.kind == RECLAIM and sent(redis_client, namespace) == [
        (RECLAIM, str(on.ref.id), str(job.id))
    ]
    await run_message(
        kind_of(RECLAIM),
        FakeRuntime(settings, db),
        db,
        tenant_id=str(on.ref.id),
        job_id=str(job.id),
        attempt=1,
    )
    async with db.tenant(on.ref).read() as session:
        done = await session.get(Job, job.id)
        assert done is not None and done.status is JobStatus.succeeded, done.error if done else None
        assert done.result is not None and done.result["reclaimed"] == 1
        owners = (await session.execute(select(Customer.owner_id))).scalars().all()
        assert owners == [None]
    async with db.tenant(off.ref).read() as session:
        owners = (await session.execute(select(Customer.owner_id))).scalars().all()
        assert owners == [off.admin.user_id]


async def test_backup_runs_on_each_companys_schedule_and_honours_its_policy(
    db: Database,
    settings: Settings,
    redis_namespace: str,
    async_redis: aioredis.Redis,
) -> None:
    """Backups follow the company's own schedule (a time of day in its zone spreads them across
    the night instead of every company at one boundary); a company whose policy has backups off
    gets no job; a job run twice makes one backup."""
    from crm_core.backups.models import Backup, BackupStatus
    from crm_core.backups.tasks import SCHEDULED

    on = await make_tenant(db, "sched-backup-on")
    off = await make_tenant(db, "sched-backup-off")
    sim = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    value = {
        "backup": {"frequency": "hourly", "time_of_day": "00:00"},
        "cleansing": {"enabled": False},
        "duplicate_scan": {"enabled": False},
    }
    for t in (on, off):
        await set_schedules(db, t.ref, "Asia/Shanghai", value)
    async with db.core_session() as session, session.begin():
        tenant = await session.get(Tenant, off.ref.id)
        assert tenant is not None
        tenant.settings = {**tenant.settings, "backup": {"enabled": False}}
    ours = {on.ref.id, off.ref.id}
    active = [t for t in await S.active_tenants(db) if t.ref.id in ours]
    found = await S.fan_out_due(
        db=db,
        redis=async_redis,
        dispatcher=NullDispatcher(),
        namespace=f"{redis_namespace}-backup",
        tenants=active,
        now=sim,
    )
    assert found == {"backup": 1, "cleansing": 0, "duplicate_scan": 0, "pool_reclaim": 0}
    assert await jobs_of(db, off.ref) == []
    [job] = await jobs_of(db, on.ref)
    assert job.kind == SCHEDULED
    for attempt in (1, 1):  # the same message delivered twice
        await run_message(
            kind_of(SCHEDULED),
            FakeRuntime(settings, db),
            db,
            tenant_id=str(on.ref.id),
            job_id=str(job.id),
            attempt=attempt,
        )
    async with db.tenant(on.ref).read() as session:
        done = await session.get(Job, job.id)
        assert done is not None and done.status is JobStatus.succeeded, done.error if done else None
        assert done.result is not None and done.result["row_count"] > 0
    async with db.core_session() as session:
        made = (
            (await session.execute(select(Backup).where(Backup.tenant_id.in_(ours))))
            .scalars()
            .all()
        )
    assert [(b.tenant_id, b.trigger, b.status) for b in made] == [
        (on.ref.id, "scheduled", BackupStatus.succeeded)
    ]
