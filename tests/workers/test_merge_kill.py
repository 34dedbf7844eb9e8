"""``kill -9`` of a worker while the duplicate-scan job is merging customers, repeated.

Merges run on the workers as the automatic merges of ``dedup.scan_duplicates`` (pairs at or above
the company's threshold), each merge its own transaction. Each round plants fresh duplicate pairs
(each customer with contacts, follow-ups, interactions, opportunities and complaints), starts a
scan job, waits until the job has merged at least one of the round's pairs, kills the worker at a
random moment after that, and checks right away that every pair is merged completely (every related
row moved, tombstone set, one merge record) or not at all. A new worker and the scheduler's sweep
then finish the job: every pair ends merged exactly once, and the job ends succeeded.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crmtest import make_tenant
from jobhelpers import FAST_JOBS, load_jobs, wait_finished
from sqlalchemy import func, select

from crm_core.audit.models import AuditEntry
from crm_core.complaints import service as complaints
from crm_core.contacts import service as contacts
from crm_core.customers import service as customers
from crm_core.customers.models import Customer
from crm_core.db.engine import Database
from crm_core.dedup import merge as merging
from crm_core.dedup import service as dedup
from crm_core.dedup.models import CustomerMerge
from crm_core.dedup.tasks import SCAN_DUPLICATES
from crm_core.followups import service as followups
from crm_core.interactions import service as interactions
from crm_core.jobs import service as jobs
from crm_core.jobs.models import JobStatus
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.opportunities import service as opportunities
from crm_core.settings import Settings

pytestmark = pytest.mark.slow

ROUNDS = 5
PAIRS = 16
# Chinese given names that share no character: a pair's customers match each other, never a
# customer of another pair.
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章"
GIVEN = "云帆海涛明辉国强建华志刚秀英桂兰玉梅丽娟文静晓燕春生永福德胜家乐宏伟"

Pair = tuple[uuid.UUID, uuid.UUID]  # (survivor, merged): the survivor is the older one


async def _customer(db: Database, t: Any, name: str, phone: str, email: str) -> uuid.UUID:
    """A customer with one of several kinds of related record (all moved by a merge)."""
    now = datetime.now(UTC)
    async with unit_of_work(db.tenant(t.ref), NullDispatcher()) as session:
        c = await customers.create(
            session, t.admin, {"name": name, "kind": "individual", "phone": phone, "email": email}
        )
        for n in range(2):
            await contacts.create(session, t.admin, c.id, {"name": f"{name}联系人{n}"})
        await followups.create(
            session, t.admin, c.id, {"scheduled_at": now + timedelta(days=3), "content": "回访"}
        )
        await interactions.create(
            session, t.admin, c.id, {"occurred_at": now, "channel": "phone", "subject": "来电"}
        )
        await opportunities.create(session, t.admin, c.id, {"name": f"{name}的商机"})
        await complaints.create(
            session, t.admin, c.id, {"kind": "complaint", "description": "包装破损"}
        )
        return c.id


async def _plant(db: Database, t: Any, round_no: int) -> list[Pair]:
    pairs = []
    for i in range(PAIRS):
        k = round_no * PAIRS + i
        name = (
            SURNAMES[k % len(SURNAMES)]
            + GIVEN[(k * 2) % len(GIVEN)]
            + GIVEN[(k * 2 + 1) % len(GIVEN)]
        )
        digits = f"{k:04d}"
        s = await _customer(db, t, name, f"1390000{digits}", f"c{k}@example.cn")
        m = await _customer(db, t, name, f"139 0000 {digits}", f"C{k}@Example.cn")
        pairs.append((s, m))
    return pairs


async def _references(db: Database, t: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """Every row pointing at each customer, as ``table.column:pk``."""
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    async with db.tenant(t.ref).read() as session:
        for table, column in merging.customer_references():
            (pk,) = table.primary_key.columns
            rows = await session.execute(select(column, pk).where(column.in_(ids)))
            for owner, row_id in rows.all():
                found[owner].add(f"{table.name}.{column.name}:{row_id}")
    return found


async def _merge_records(db: Database, t: Any) -> dict[Pair, int]:
    async with db.tenant(t.ref).read() as session:
        rows = await session.execute(
            select(CustomerMerge.survivor_id, CustomerMerge.merged_id, func.count())
            .where(CustomerMerge.undone_at.is_(None))
            .group_by(CustomerMerge.survivor_id, CustomerMerge.merged_id)
        )
        return {(s, m): n for s, m, n in rows.all()}


async def _check_all_or_nothing(
    db: Database, t: Any, pairs: list[Pair], before: dict[uuid.UUID, set[str]]
) -> int:
    """Each pair merged completely or not at all; returns how many are merged."""
    ids = [i for p in pairs for i in p]
    now = await _references(db, t, ids)
    records = await _merge_records(db, t)
    async with db.tenant(t.ref).read() as session:
        rows = {
            c.id: c
            for c in (await session.execute(select(Customer).where(Customer.id.in_(ids)))).scalars()
        }
        merge_audits = dict(
            (
                await session.execute(
                    select(AuditEntry.entity_id, func.count())
                    .where(AuditEntry.action == "merge", AuditEntry.entity_id.in_(ids))
                    .group_by(AuditEntry.entity_id)
                )
            ).all()
        )
    merged = 0
    for s, m in pairs:
        if (s, m) in records:
            merged += 1
            assert records[(s, m)] == 1, "a pair merged twice"
            assert (m, s) not in records
            assert rows[m].merged_into_id == s and rows[m].deleted_at is not None
            assert rows[s].merged_into_id is None and rows[s].deleted_at is None
            assert now.get(m, set()) == set(), "a related row stayed on the tombstone"
            # Every row of both is on the survivor (a merge may add a lifecycle event to it).
            assert before[s] | before[m] <= now[s]
            assert merge_audits.get(s) == 1
        else:
            assert (m, s) not in records
            for c in (s, m):
                assert rows[c].merged_into_id is None and rows[c].deleted_at is None
                assert now.get(c, set()) == before[c], "rows moved without a merge record"
                assert c not in merge_audits
    return merged


async def _wait_first_merge(db: Database, t: Any, pairs: list[Pair], job_id: uuid.UUID) -> None:
    wanted = set(pairs)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if wanted & set(await _merge_records(db, t)):
            return
        [job] = await load_jobs(db, t.ref, [job_id])
        assert job.status in (JobStatus.queued, JobStatus.running), (job.status, job.error)
        await asyncio.sleep(0.02)
    raise AssertionError("the scan job merged nothing in 30 s")


async def test_kill_9_during_merges_leaves_no_partial_merge_and_loses_no_job(
    db: Database, settings: Settings, spawn: Any, redis_namespace: str
) -> None:
    t = await make_tenant(db, f"mkill{uuid.uuid4().hex[:6]}")
    async with db.tenant(t.ref).transaction() as session:
        await dedup.set_settings(session, t.admin, {"auto_merge_threshold": 0.9})
    ns = f"{redis_namespace}-mkill"
    broker = build_broker(settings, namespace=ns)
    dispatcher = BrokerDispatcher(broker)
    rng = random.Random()
    killed_mid_merge = 0
    try:
        spawn("crm_worker.scheduler", ns, **FAST_JOBS)
        worker = spawn("crm_worker", ns, **FAST_JOBS)
        worker.wait_for("worker started")
        for round_no in range(ROUNDS):
            pairs = await _plant(db, t, round_no)
            before = await _references(db, t, [i for p in pairs for i in p])
            async with unit_of_work(db.tenant(t.ref), dispatcher) as session:
                job = await jobs.enqueue(session, t.admin, SCAN_DUPLICATES, {"kinds": ["customer"]})
            await _wait_first_merge(db, t, pairs, job.id)
            await asyncio.sleep(rng.uniform(0, 0.25))
            worker.proc.kill()  # SIGKILL: no shutdown; an open merge transaction dies with it
            worker.proc.wait()
            at_kill = await _check_all_or_nothing(db, t, pairs, before)
            killed_mid_merge += 0 < at_kill < PAIRS
            worker = spawn("crm_worker", ns, **FAST_JOBS)
            worker.wait_for("worker started")
            started = time.monotonic()
            [done] = await wait_finished(db, t.ref, [job.id], timeout=60)
            recovery = time.monotonic() - started
            assert done.status is JobStatus.succeeded, (done.status, done.attempts, done.error)
            assert await _check_all_or_nothing(db, t, pairs, before) == PAIRS
            print(
                f"round {round_no}: {at_kill}/{PAIRS} merged at the kill, "
                f"attempts {done.attempts}, recovered in {recovery:.1f} s"
            )
        # Over all rounds: each pair merged exactly once; no other merge happened.
        records = await _merge_records(db, t)
        assert len(records) == ROUNDS * PAIRS and set(records.values()) == {1}
        # The kills did land between merges (not only before or after them) at least once.
        assert killed_mid_merge >= 1
    finally:
        broker.close()


async def test_the_scan_job_merges_only_its_own_tenant(
    db: Database, settings: Settings, worker_process: Any, dispatcher: BrokerDispatcher
) -> None:
    """Two tenants with the same duplicate pair: a scan job of one merges only that one's."""
    a = await make_tenant(db, f"mka{uuid.uuid4().hex[:6]}")
    b = await make_tenant(db, f"mkb{uuid.uuid4().hex[:6]}")
    made: dict[str, Pair] = {}
    for key, t in (("a", a), ("b", b)):
        async with db.tenant(t.ref).transaction() as session:
            await dedup.set_settings(session, t.admin, {"auto_merge_threshold": 0.9})
        s = await _customer(db, t, "欧阳明辉", "13900009999", "oy@example.cn")
        m = await _customer(db, t, "欧阳明辉", "139 0000 9999", "OY@example.cn")
        made[key] = (s, m)
    async with unit_of_work(db.tenant(a.ref), dispatcher) as session:
        job = await jobs.enqueue(session, a.admin, SCAN_DUPLICATES, {"kinds": ["customer"]})
    [done] = await wait_finished(db, a.ref, [job.id], timeout=60)
    assert done.status is JobStatus.succeeded, done.error
    assert await _merge_records(db, a) == {made["a"]: 1}
    assert await _merge_records(db, b) == {}
    async with db.tenant(b.ref).read() as session:
        live = await session.scalar(
            select(func.count()).where(Customer.id.in_(made["b"]), Customer.deleted_at.is_(None))
        )
    assert live == 2
