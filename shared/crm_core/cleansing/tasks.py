"""Cleansing actors: one customer after a write, or a whole tenant for the periodic scan.

Both are idempotent (cleansing a clean record changes nothing), so a retry or a duplicate
message from two schedulers costs time, never correctness. The per-write message is written to the
durable outbox by ``defer`` in the customer's own transaction (``customers.service``), and so is the
continuation of a whole-tenant scan: neither is lost when a process dies after its commit.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import or_, select

from crm_core.cleansing import service
from crm_core.customers.models import Customer
from crm_core.db.engine import TenantDatabase
from crm_core.messaging.actors import WorkerRuntime, tenant_actor
from crm_core.messaging.outbox import defer, unit_of_work

log = logging.getLogger(__name__)

QUEUE = "cleansing"
CLEANSE_CUSTOMER = "cleansing.cleanse_customer"
CLEANSE_TENANT = "cleansing.cleanse_tenant"
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


async def cleanse_chunk(
    tdb: TenantDatabase, *, after: uuid.UUID | None, default_region: str, full: bool
) -> uuid.UUID | None:
    """Cleanse up to ``CHUNK_SIZE`` customers with ids after ``after``, in one transaction.

    Returns the last id seen (the next keyset cursor), or None when there are no more.
    """
    stmt = (
        select(Customer.id)
        .where(Customer.deleted_at.is_(None))
        .order_by(Customer.id)
        .limit(CHUNK_SIZE)
    )
    if after is not None:
        stmt = stmt.where(Customer.id > after)
    if not full:
        # Only records never cleansed or changed since: what a lost per-record message missed.
        stmt = stmt.where(
            or_(Customer.cleansed_at.is_(None), Customer.updated_at > Customer.cleansed_at)
        )
    async with tdb.transaction() as session:
        ids = (await session.execute(stmt)).scalars().all()
        for cid in ids:
            await service.cleanse_customer(session, cid, default_region=default_region)
    return ids[-1] if len(ids) == CHUNK_SIZE else None


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
