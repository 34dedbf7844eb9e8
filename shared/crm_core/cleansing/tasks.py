"""Cleansing actors: one customer after a write, or a whole tenant for the periodic scan.

``cleansing.cleanse_customers`` is the scheduled whole-tenant pass as a job (``crm_core.jobs``): the
company's admins see it, its progress and its report (checked, changed, flagged) in ``jobs``; the
scheduler sends it on the company's cleansing schedule (``crm_core.schedules``). It only looks at
records never cleansed or changed since (``full`` re-checks all), so an attempt after a crash
resumes where the last one stopped. ``cleansing.cleanse_tenant`` is the same pass as a plain actor
that continues itself in follow-up messages (no job row).

All are idempotent (cleansing a clean record changes nothing), so a retry or a duplicate
message from two schedulers costs time, never correctness. The per-write message is written to the
durable outbox by ``defer`` in the customer's own transaction (``customers.service``), and so is the
continuation of a whole-tenant scan: neither is lost when a process dies after its commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from crm_core.cleansing import service
from crm_core.customers.models import Customer
from crm_core.db.engine import TenantDatabase
from crm_core.jobs.runner import JobContext, JobFailed, job_actor
from crm_core.messaging.actors import WorkerRuntime, tenant_actor
from crm_core.messaging.outbox import defer, unit_of_work

log = logging.getLogger(__name__)

QUEUE = "cleansing"
CLEANSE_CUSTOMER = "cleansing.cleanse_customer"
CLEANSE_TENANT = "cleansing.cleanse_tenant"
CLEANSE_CUSTOMERS = "cleansing.cleanse_customers"
# Rows per transaction: row locks are held for one chunk only, and a failure redoes one chunk.
CHUNK_SIZE = 500
# Chunks per message: a huge tenant continues in a follow-up message rather than running into
# the actor's time limit, and a restart resumes from the last finished chunk.
CHUNKS_PER_MESSAGE = 40


def _parse_id(value: str, what: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        # A malformed id is a bug upstream: retrying cannot fix it, so drop it loudly.
        log.error("cleansing: ignoring malformed %s %r", what, value)
        return None


@tenant_actor(CLEANSE_CUSTOMER, queue_name=QUEUE, max_retries=5)
async def cleanse_customer(
    *, tdb: TenantDatabase, runtime: WorkerRuntime, customer_id: str
) -> None:
    cid = _parse_id(customer_id, "customer_id")
    if cid is None:
        return
    async with tdb.transaction() as session:
        await service.cleanse_customer(
            session, cid, default_region=runtime.settings.default_phone_region
        )


@dataclass(frozen=True, slots=True)
class ChunkReport:
    """One chunk: the next keyset cursor (None when there are no more), and what happened."""

    cursor: uuid.UUID | None
    checked: int = 0
    changed: int = 0
    flagged: int = 0


def _to_cleanse(full: bool) -> ColumnElement[bool]:
    live = Customer.deleted_at.is_(None)
    if full:
        return live
    # Only records never cleansed or changed since: what a lost per-record message missed.
    return live & or_(Customer.cleansed_at.is_(None), Customer.updated_at > Customer.cleansed_at)


async def cleanse_page(
    tdb: TenantDatabase, *, after: uuid.UUID | None, default_region: str, full: bool
) -> ChunkReport:
    """Cleanse up to ``CHUNK_SIZE`` customers with ids after ``after``, in one transaction."""
    stmt = select(Customer).where(_to_cleanse(full)).order_by(Customer.id).limit(CHUNK_SIZE)
    if after is not None:
        stmt = stmt.where(Customer.id > after)
    # The chunk is locked with one statement (as ``cleanse_customer`` locks one record): a user's
    # save of one of them waits for this transaction, then fails its version check if we changed
    # values. Rows locked by someone else are waited for, in id order (no deadlock between two
    # passes).
    changed = flagged = 0
    async with tdb.transaction() as session:
        rows = (await session.execute(stmt.with_for_update(of=Customer))).scalars().all()
        ids = [c.id for c in rows]
        for outcome in await service.cleanse_many(session, rows, default_region=default_region):
            changed += bool(outcome.changed)
            flagged += any(f.get("code") in service.CODES for f in outcome.flags)
    cursor = ids[-1] if len(ids) == CHUNK_SIZE else None
    return ChunkReport(cursor, len(ids), changed, flagged)


async def cleanse_chunk(
    tdb: TenantDatabase, *, after: uuid.UUID | None, default_region: str, full: bool
) -> uuid.UUID | None:
    """Cleanse up to ``CHUNK_SIZE`` customers with ids after ``after``, in one transaction.

    Returns the last id seen (the next keyset cursor), or None when there are no more.
    """
    page = await cleanse_page(tdb, after=after, default_region=default_region, full=full)
    return page.cursor


async def count_to_cleanse(tdb: TenantDatabase, *, full: bool) -> int:
    async with tdb.read() as session:
        stmt = select(func.count()).select_from(Customer).where(_to_cleanse(full))
        return int((await session.execute(stmt)).scalar_one())


async def cleanse_all(
    tdb: TenantDatabase,
    *,
    default_region: str,
    full: bool,
    ctx: JobContext | None = None,
) -> dict[str, Any]:
    """The whole tenant, chunk after chunk; with a job context, progress and cancellation.

    Returns the report: customers checked, changed (values fixed) and flagged for review."""
    total = await count_to_cleanse(tdb, full=full)
    if ctx is not None:
        await ctx.report(0, total)
    report = {"checked": 0, "changed": 0, "flagged": 0, "full": full, "cancelled": False}
    cursor: uuid.UUID | None = None
    while True:
        page = await cleanse_page(tdb, after=cursor, default_region=default_region, full=full)
        report["checked"] += page.checked
        report["changed"] += page.changed
        report["flagged"] += page.flagged
        cursor = page.cursor
        if cursor is None:
            break
        if ctx is not None:
            # Records changed meanwhile can push ``checked`` past the first count.
            await ctx.report(report["checked"], max(total, report["checked"]))
            if await ctx.cancelled():
                report["cancelled"] = True
                break
    if ctx is not None and not report["cancelled"]:
        await ctx.report(report["checked"], max(total, report["checked"]))
    return report


@job_actor(CLEANSE_CUSTOMERS, max_retries=3, queue=QUEUE, time_limit_ms=6 * 3_600_000)
async def cleanse_customers(ctx: JobContext) -> dict[str, Any]:
    full = ctx.params.get("full", False)
    if not isinstance(full, bool):
        raise JobFailed("full must be true or false")
    if ctx.runtime is not None:
        region = ctx.runtime.settings.default_phone_region
    else:  # pragma: no cover - the worker always passes its runtime
        from crm_core.settings import load_settings

        region = load_settings().default_phone_region
    return await cleanse_all(ctx.db, default_region=region, full=full, ctx=ctx)


@tenant_actor(CLEANSE_TENANT, queue_name=QUEUE, max_retries=3)
async def cleanse_tenant(
    *, tdb: TenantDatabase, runtime: WorkerRuntime, after: str | None = None, full: bool = False
) -> None:
    """Page over the tenant's customers in id order; ``full`` also re-checks clean records."""
    cursor = _parse_id(after, "after") if after else None
    if after and cursor is None:
        return
    region = runtime.settings.default_phone_region
    for _ in range(CHUNKS_PER_MESSAGE):
        cursor = await cleanse_chunk(tdb, after=cursor, default_region=region, full=full)
        if cursor is None:
            return
    # Through the durable outbox: a worker killed right here still leaves the continuation to send.
    async with unit_of_work(tdb, runtime.dispatcher) as session:
        defer(session, CLEANSE_TENANT, QUEUE, after=str(cursor), full=full)
