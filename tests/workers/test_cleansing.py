"""Cleansing: the pure rules, the database write, and a real worker process fed through Redis."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import update

from crm_core.cleansing import normalize, tasks
from crm_core.cleansing.service import CleanseResult, cleanse_customer, cleanse_customer_values
from crm_core.customers import service as customers
from crm_core.customers.models import Customer, CustomerKind
from crm_core.db.engine import Database
from crm_core.errors import Conflict
from crm_core.messaging.broker import BrokerDispatcher
from crm_core.messaging.outbox import NullDispatcher, OutgoingMessage, unit_of_work
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import service as tenants
from crm_core.tenants.models import TenantStatus

MESSY: dict[str, Any] = {
    "name": "　上海明辉贸易  有限公司 ",
    "kind": CustomerKind.company,
    "industry": " 贸易 ",
    "phone_raw": "１３８ ００１３ ８０００",
    "email": " Sales@MingHui.CN ",
    "address_line": "上海市浦东新区　张江路１号",
    "notes": "  第一行  \n\n\n\n第二行 ",
}


UNREADABLE = "某某镇幸福村3组"  # no province, city or district the splitter knows


def messy(**overrides: Any) -> Customer:
    return Customer(code="M-1", **{**MESSY, **overrides})


def codes(result: CleanseResult) -> list[str]:
    return [f["code"] for f in result.flags]


def apply(customer: Customer, result: CleanseResult) -> Customer:
    for name, value in result.changes.items():
        setattr(customer, name, value)
    return customer


async def poll(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 15.0, what: str = ""
) -> Any:
    """Wait for ``check`` to return something truthy, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.1)


async def insert_messy(db: Database, ref: TenantRef, **overrides: Any) -> uuid.UUID:
    """Straight into the table, around the service (as an old import or a bug would)."""
    async with db.tenant(ref).transaction() as session:
        customer = Customer(code=f"M-{uuid.uuid4().hex[:10].upper()}", **{**MESSY, **overrides})
        session.add(customer)
        await session.flush()
        return customer.id


async def load(db: Database, ref: TenantRef, customer_id: uuid.UUID) -> Customer | None:
    async with db.tenant(ref).read() as session:
        return await session.get(Customer, customer_id)


# -- pure rules ------------------------------------------------------------------------------------


def test_full_width_and_whitespace_are_folded() -> None:
    result = cleanse_customer_values(
        messy(website=" ｗｗｗ．ｍｉｎｇｈｕｉ．ｃｎ "), default_region="CN"
    )
    assert result.changes["name"] == "上海明辉贸易 有限公司"
    assert result.changes["industry"] == "贸易"
    assert result.changes["website"] == "www.minghui.cn"
    assert result.changes["notes"] == "第一行\n\n第二行"
    assert result.changes["email"] == normalize.normalize_email(MESSY["email"]).normalized
    assert (result.changes["province"], result.changes["city"], result.changes["district"]) == (
        "上海市", "上海市", "浦东新区",
    )  # fmt: skip
    assert result.flags == []


def test_raw_phone_is_parsed_later_and_kept() -> None:
    result = cleanse_customer_values(messy(phone=None), default_region="CN")
    assert result.changes["phone"] == "+8613800138000"
    assert "phone_raw" not in result.changes  # the text as typed stays as typed


def test_stored_e164_is_kept() -> None:
    result = cleanse_customer_values(
        messy(phone="+442079460000", phone_raw="garbled"), default_region="CN"
    )
    assert "phone" not in result.changes
    assert "phone_raw" not in result.changes


def test_unparseable_phone_is_flagged_masked_and_never_dropped() -> None:
    result = cleanse_customer_values(messy(phone_raw="138-0013-800"), default_region="CN")
    assert "phone_raw" not in result.changes
    assert "phone" not in result.changes
    assert codes(result) == ["INVALID_PHONE"]
    assert "138-0013-800" not in result.flags[0]["message"]
    # Junk in the E.164 column moves to phone_raw instead of being lost.
    junk = cleanse_customer_values(messy(phone="12345", phone_raw=None), default_region="CN")
    assert junk.changes == {**junk.changes, "phone": None, "phone_raw": "12345"}


def test_invalid_email_is_flagged_not_dropped() -> None:
    result = cleanse_customer_values(messy(email="wang.fang@@minghui"), default_region="CN")
    assert "email" not in result.changes
    assert codes(result) == ["INVALID_EMAIL"]
    assert "wang.fang" not in result.flags[0]["message"]


def test_address_fills_only_empty_parts_and_flags_what_it_cannot_read() -> None:
    kept = cleanse_customer_values(messy(city="浦东", street="张江路1号"), default_region="CN")
    assert kept.changes["province"] == "上海市"
    assert kept.changes["district"] == "浦东新区"
    assert "city" not in kept.changes
    assert "street" not in kept.changes
    unread = cleanse_customer_values(messy(address_line=UNREADABLE), default_region="CN")
    assert codes(unread) == ["ADDRESS_UNPARSED"]
    assert "province" not in unread.changes


def test_no_contact_method() -> None:
    result = cleanse_customer_values(messy(phone_raw=None, email=None), default_region="CN")
    assert codes(result) == ["NO_CONTACT_METHOD"]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"phone": "12345", "phone_raw": None, "email": "bad@", "address_line": UNREADABLE},
        {
            "name": "   ",
            "phone_raw": None,
            "email": None,
            "address_line": "1 Main St, Springfield, USA",
        },
        {"address_line": "广东省深圳市南山区科技园南路８８号 518057", "country": "cn"},
    ],
)
def test_cleansing_is_idempotent(overrides: dict[str, Any]) -> None:
    customer = messy(**overrides)
    first = cleanse_customer_values(customer, default_region="CN")
    second = cleanse_customer_values(apply(customer, first), default_region="CN")
    assert second.changes == {}
    assert second.flags == first.flags


# -- the database write ----------------------------------------------------------------------------


async def test_values_bump_version_flags_do_not(db: Database, tenant_a: Any) -> None:
    tdb = db.tenant(tenant_a.ref)
    async with unit_of_work(tdb, NullDispatcher()) as session:
        made = await customers.create(
            session, tenant_a.admin, {"name": "明辉贸易", "kind": "company", "phone": "13800138000"}
        )
    async with tdb.transaction() as session:  # break it around the service
        await session.execute(
            update(Customer)
            .where(Customer.id == made.id)
            .values(address_line=UNREADABLE, country="CN", street=UNREADABLE)
        )
    before = await load(db, tenant_a.ref, made.id)
    assert before is not None
    async with tdb.transaction() as session:
        outcome = await cleanse_customer(session, made.id, default_region="CN")
    after = await load(db, tenant_a.ref, made.id)
    assert outcome is not None
    assert outcome.changed == ()
    assert after is not None
    assert after.version == before.version == outcome.version
    assert after.updated_at == before.updated_at
    assert after.cleansed_at is not None
    assert [f["code"] for f in after.review_flags] == ["ADDRESS_UNPARSED"]
    # A user who loaded the record before the flags were written saves without a conflict.
    async with unit_of_work(tdb, NullDispatcher()) as session:
        await customers.update(
            session, tenant_a.admin, made.id, {"industry": "贸易"}, expected_version=before.version
        )

    messy_id = await insert_messy(db, tenant_a.ref)
    seen = await load(db, tenant_a.ref, messy_id)
    async with tdb.transaction() as session:
        outcome = await cleanse_customer(session, messy_id, default_region="CN")
    assert outcome is not None
    assert "name" in outcome.changed
    assert "search_text" in outcome.changed
    cleaned = await load(db, tenant_a.ref, messy_id)
    assert seen is not None
    assert cleaned is not None
    assert cleaned.version == seen.version + 1
    assert "minghui" in cleaned.search_text.lower()
    assert cleaned.phone == "+8613800138000"
    # Values did change under this user: a stale save is refused.
    with pytest.raises(Conflict):
        async with unit_of_work(tdb, NullDispatcher()) as session:
            await customers.update(
                session, tenant_a.admin, messy_id, {"industry": "x"}, expected_version=seen.version
            )


class FakeRuntime:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self._db = db
        self.dispatcher = NullDispatcher()

    async def database(self) -> Database:
        return self._db


async def test_whole_tenant_runs_in_chunks_and_continues(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, _ = await tenants.create(db, tenants.TenantInput(slug="chunky-w", name="Chunky"))
    ref = TenantRef(tenant.id, tenant.slug)
    ids = [await insert_messy(db, ref) for _ in range(5)]
    monkeypatch.setattr(tasks, "CHUNK_SIZE", 2)
    monkeypatch.setattr(tasks, "CHUNKS_PER_MESSAGE", 2)
    runtime = FakeRuntime(settings, db)
    await tasks.cleanse_tenant(tdb=db.tenant(ref), runtime=runtime)
    done = [c for c in [await load(db, ref, i) for i in ids] if c and c.cleansed_at]
    assert len(done) == 4
    [follow_up] = runtime.dispatcher.sent
    assert follow_up.actor_name == "cleansing.cleanse_tenant"
    assert follow_up.kwargs["tenant_id"] == str(ref.id)
    kwargs = {k: v for k, v in follow_up.kwargs.items() if k != "tenant_id"}
    await tasks.cleanse_tenant(tdb=db.tenant(ref), runtime=runtime, **kwargs)
    rows = [await load(db, ref, i) for i in ids]
    assert all(c is not None and c.cleansed_at and c.version == 2 for c in rows)
    assert len(runtime.dispatcher.sent) == 1
    stamps = {c.id: c.cleansed_at for c in rows if c}
    await tasks.cleanse_tenant(tdb=db.tenant(ref), runtime=runtime)  # nothing stale: no work
    assert {i: (await load(db, ref, i)).cleansed_at for i in ids} == stamps  # type: ignore[union-attr]


# -- a real worker process -------------------------------------------------------------------------


def queue_counts(client: redis_lib.Redis, namespace: str) -> tuple[int, int, int]:
    """Messages (waiting or in progress), delayed retries, dead letters."""
    base = f"{namespace}:cleansing"
    return (
        client.hlen(f"{base}.msgs"),
        client.hlen(f"{base}.DQ.msgs"),
        client.hlen(f"{base}.XQ.msgs"),
    )


async def drained(client: redis_lib.Redis, namespace: str) -> None:
    async def idle() -> bool:
        waiting, delayed, _ = queue_counts(client, namespace)
        return waiting == 0 and delayed == 0

    await poll(idle, what="the cleansing queue to drain")


def send(dispatcher: BrokerDispatcher, actor: str, **kwargs: str) -> None:
    dispatcher.send(OutgoingMessage(actor, "cleansing", kwargs))


async def test_worker_cleanses_a_customer(worker_process, dispatcher, db, tenant_a) -> None:
    cid = await insert_messy(db, tenant_a.ref)
    send(
        dispatcher,
        "cleansing.cleanse_customer",
        tenant_id=str(tenant_a.ref.id),
        customer_id=str(cid),
    )

    async def cleansed() -> Customer | None:
        c = await load(db, tenant_a.ref, cid)
        return c if c is not None and c.cleansed_at is not None else None

    c = await poll(cleansed, what="the customer to be cleansed")
    assert c.name == "上海明辉贸易 有限公司"
    assert c.phone == "+8613800138000"
    assert c.phone_raw == MESSY["phone_raw"]
    assert c.email == normalize.normalize_email(MESSY["email"]).normalized
    assert c.district == "浦东新区"
    assert c.review_flags == []
    assert c.version == 2


async def test_message_for_one_tenant_never_touches_another(
    worker_process, dispatcher, redis_client, worker_namespace, db, tenant_a, tenant_b, lookalikes
) -> None:
    theirs = await insert_messy(db, tenant_b.ref)
    before = {
        key: await load(db, t.ref, lookalikes[key]) for key, t in (("a", tenant_a), ("b", tenant_b))
    }
    for customer_id in (theirs, lookalikes["b"]):
        send(
            dispatcher,
            "cleansing.cleanse_customer",
            tenant_id=str(tenant_a.ref.id),
            customer_id=str(customer_id),
        )
    await drained(redis_client, worker_namespace)
    c = await load(db, tenant_b.ref, theirs)
    assert c is not None
    assert (c.cleansed_at, c.version, c.name) == (None, 1, MESSY["name"])
    for key, t in (("a", tenant_a), ("b", tenant_b)):
        now = await load(db, t.ref, lookalikes[key])
        assert now is not None
        assert before[key] is not None
        assert (now.cleansed_at, now.version) == (None, before[key].version)


async def test_message_without_tenant_is_refused_not_retried(
    worker_process, dispatcher, redis_client, worker_namespace, db, tenant_a
) -> None:
    cid = await insert_messy(db, tenant_a.ref)
    dead_before = queue_counts(redis_client, worker_namespace)[2]
    send(dispatcher, "cleansing.cleanse_customer", customer_id=str(cid))

    async def dead_lettered() -> bool:
        return queue_counts(redis_client, worker_namespace)[2] > dead_before

    await poll(dead_lettered, what="the message to be dead-lettered")
    await drained(redis_client, worker_namespace)  # and no retry waiting in the delay queue
    dead = [json.loads(m) for m in redis_client.hvals(f"{worker_namespace}:cleansing.XQ.msgs")]
    refused = [m for m in dead if m["kwargs"] == {"customer_id": str(cid)}]
    assert len(refused) == 1
    assert not refused[0]["options"].get("retries")
    c = await load(db, tenant_a.ref, cid)
    assert c is not None
    assert c.cleansed_at is None


async def test_suspended_tenant_is_skipped(
    worker_process, dispatcher, redis_client, worker_namespace, db
) -> None:
    tenant, _ = await tenants.create(db, tenants.TenantInput(slug="sleepy-w", name="Sleepy"))
    ref = TenantRef(tenant.id, tenant.slug)
    cid = await insert_messy(db, ref)
    await tenants.set_status(db, ref.slug, TenantStatus.suspended)
    dead_before = queue_counts(redis_client, worker_namespace)[2]
    send(dispatcher, "cleansing.cleanse_customer", tenant_id=str(ref.id), customer_id=str(cid))
    await drained(redis_client, worker_namespace)
    assert queue_counts(redis_client, worker_namespace)[2] == dead_before  # skipped, not failed
    assert f"tenant {ref.id} is not active" in worker_process.log()
    c = await load(db, ref, cid)
    assert c is not None
    assert c.cleansed_at is None
    assert c.version == 1


async def test_whole_tenant_message_cleanses_only_that_tenant(
    worker_process, dispatcher, redis_client, worker_namespace, db, tenant_a, tenant_b, lookalikes
) -> None:
    ours = [await insert_messy(db, tenant_a.ref) for _ in range(3)]
    theirs = await insert_messy(db, tenant_b.ref)
    send(dispatcher, "cleansing.cleanse_tenant", tenant_id=str(tenant_a.ref.id))
    await drained(redis_client, worker_namespace)
    rows = [await load(db, tenant_a.ref, i) for i in (*ours, lookalikes["a"])]
    assert all(c is not None and c.cleansed_at for c in rows)
    for customer_id in (theirs, lookalikes["b"]):
        c = await load(db, tenant_b.ref, customer_id)
        assert c is not None
        assert c.cleansed_at is None


def test_worker_stops_gracefully_on_sigterm(worker_process) -> None:
    started = time.monotonic()
    worker_process.proc.send_signal(signal.SIGTERM)
    assert worker_process.proc.wait(timeout=15) == 0
    assert time.monotonic() - started < 10
    assert "worker stopped" in worker_process.log()
