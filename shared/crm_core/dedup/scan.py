"""The whole-tenant duplicate scan, in chunks: plain async functions that a job actor (or the CLI,
or a test) runs with a tenant database, reporting progress after every chunk.

Customers: (1) refresh the blocking keys of rows written around the service (imports, old data),
``chunk`` rows per transaction; (2) one streaming statement lists the pairs that share a key,
leaving out keys shared by more than ``block_cap`` customers (a common name or a switchboard
number would otherwise make the pair count quadratic); (3) the pairs are scored ``chunk`` at a
time and those at or above ``min_score`` are upserted into the review queue, each chunk in its
own transaction. A pair a person dismissed or merged keeps its decision (only open rows are
refreshed). Contacts block in memory (their phones and e-mails are lists); leads are looked up
against the customers' key index one chunk of leads at a time.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

from sqlalchemy import Table, Text, and_, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.contacts.models import Contact
from crm_core.customers.models import Customer
from crm_core.db.engine import TenantDatabase
from crm_core.dedup import keys as K
from crm_core.dedup.models import CandidateStatus, DuplicateCandidate, DuplicateKind
from crm_core.dedup.scoring import Profile, compare, contact_profile, customer_profile, lead_profile
from crm_core.leads.models import Lead, LeadStatus

CHUNK = 1000
BLOCK_CAP = 50
MIN_SCORE = 0.5
PROFILE_CACHE = 200_000
Report = Callable[[int, int | None], Awaitable[None]]
Cancelled = Callable[[], Awaitable[bool]]

# What the scoring of a customer reads (not the whole row).
PROFILE_COLUMNS = (
    Customer.id, Customer.name, Customer.kind, Customer.phone, Customer.email, Customer.website,
    Customer.tax_id_index, Customer.city, Customer.district, Customer.street,
    Customer.address_line,
)  # fmt: skip
_KEY_NAMES = {"p": "phone", "e": "email", "n": "name", "c": "company", "k": "company",
              "x": "tax_id", "w": "website"}  # fmt: skip


@dataclass
class ScanStats:
    kind: str
    records: int = 0
    keys_refreshed: int = 0
    pairs: int = 0
    candidates: int = 0
    high_scores: list[tuple[uuid.UUID, uuid.UUID, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "records": self.records,
            "keysRefreshed": self.keys_refreshed,
            "pairs": self.pairs,
            "candidates": self.candidates,
        }


async def _noop_report(done: int, total: int | None = None) -> None:
    return None


async def _never() -> bool:
    return False


def key_fields(shared: Iterable[str]) -> list[str]:
    """Which kinds of key a pair shares ("phone", "name", …): the blocks that found it."""
    return sorted({_KEY_NAMES.get(k.split(":", 1)[0], "other") for k in shared})


# ---------------------------------------------------------------- customers


async def refresh_customer_keys(
    db: TenantDatabase, *, chunk: int = CHUNK, cancelled: Cancelled = _never
) -> tuple[int, int]:
    """Recompute every live customer's keys; write those that changed. (rows seen, rows changed)"""
    seen = changed = 0
    after: uuid.UUID | None = None
    table: Table = Customer.__table__  # type: ignore[assignment]
    stmt_update = (
        update(table).where(table.c.id == bindparam("b_id")).values(dedup_keys=bindparam("b_keys"))
    )
    while True:
        async with db.transaction() as session:
            stmt = (
                select(*PROFILE_COLUMNS, Customer.dedup_keys)
                .where(Customer.deleted_at.is_(None))
                .order_by(Customer.id)
                .limit(chunk)
            )
            if after is not None:
                stmt = stmt.where(Customer.id > after)
            rows = (await session.execute(stmt)).all()
            if not rows:
                return seen, changed
            updates = []
            for row in rows:
                keys = K.customer_keys(row)
                if keys != list(row.dedup_keys or []):
                    updates.append({"b_id": row.id, "b_keys": keys})
            if updates:
                await session.execute(stmt_update, updates)
            seen, changed, after = seen + len(rows), changed + len(updates), rows[-1].id
        if await cancelled():
            return seen, changed


def customer_pairs_statement(block_cap: int = BLOCK_CAP) -> Any:
    """Pairs of live customers sharing at least one key whose block is at most ``block_cap``
    customers, with the keys they share, ordered by (left, right)."""
    live = and_(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))
    k = (
        select(Customer.id.label("id"), func.unnest(Customer.dedup_keys).label("key"))
        .where(live)
        .cte("k")
    )
    blocks = (
        select(k.c.key).group_by(k.c.key).having(func.count().between(2, block_cap)).cte("blocks")
    )
    a, b = k.alias("a"), k.alias("b")
    return (
        select(a.c.id.label("left_id"), b.c.id.label("right_id"), func.array_agg(a.c.key))
        .select_from(a.join(blocks, blocks.c.key == a.c.key).join(b, b.c.key == a.c.key))
        .where(a.c.id < b.c.id)
        .group_by(a.c.id, b.c.id)
        .order_by(a.c.id, b.c.id)
    )


async def load_customer_profiles(
    session: AsyncSession, ids: Iterable[uuid.UUID], cache: dict[uuid.UUID, Profile] | None = None
) -> dict[uuid.UUID, Profile]:
    """Profiles by id; ``cache`` (bounded by the caller) keeps those built for earlier chunks,
    since each customer takes part in several pairs."""
    cache = {} if cache is None else cache
    wanted = set(ids)
    missing = [i for i in wanted if i not in cache]
    if missing:
        stmt = select(*PROFILE_COLUMNS).where(Customer.id.in_(missing))
        for row in (await session.execute(stmt)).all():
            cache[row.id] = customer_profile(row)
    return {i: cache[i] for i in wanted if i in cache}


async def upsert_candidates(
    session: AsyncSession, kind: DuplicateKind, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert new pairs; refresh the score of open ones; leave decided ones alone."""
    if not rows:
        return
    # One statement, many parameter sets: compiled once (cached), batched by the driver.
    stmt = pg_insert(DuplicateCandidate)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "left_id", "right_id"],
        set_={
            "score": stmt.excluded.score,
            "evidence": stmt.excluded.evidence,
            "found_at": stmt.excluded.found_at,
        },
        where=DuplicateCandidate.status == CandidateStatus.open,
    )
    await session.execute(
        stmt,
        [{"id": uuid.uuid4(), "kind": kind, "status": CandidateStatus.open, **r} for r in rows],
    )


async def scan_customers(
    db: TenantDatabase,
    *,
    chunk: int = CHUNK,
    block_cap: int = BLOCK_CAP,
    min_score: float = MIN_SCORE,
    high_score: float | None = None,
    report: Report = _noop_report,
    cancelled: Cancelled = _never,
    refresh_keys: bool = True,
) -> ScanStats:
    """Find likely duplicate customers in the whole tenant. ``high_score``: pairs at or above it
    are listed in the result (for the automatic merge)."""
    stats = ScanStats("customer")
    if refresh_keys:
        stats.records, stats.keys_refreshed = await refresh_customer_keys(
            db, chunk=chunk, cancelled=cancelled
        )
        if await cancelled():
            return stats
    now = datetime.now(UTC)
    cache: dict[uuid.UUID, Profile] = {}
    async with db.read() as reader, reader.begin():
        result = await reader.stream(
            customer_pairs_statement(block_cap).execution_options(yield_per=chunk)
        )
        async for part in result.partitions(chunk):
            stats.pairs += len(part)
            async with db.transaction() as session:
                if len(cache) > PROFILE_CACHE:
                    cache.clear()
                profiles = await load_customer_profiles(
                    session, {i for row in part for i in (row[0], row[1])}, cache
                )
                found = []
                for left_id, right_id, shared in part:
                    a, b = profiles.get(left_id), profiles.get(right_id)
                    if a is None or b is None:
                        continue
                    scored = compare(a, b)
                    if scored.score < min_score:
                        continue
                    evidence = scored.as_json() | {"blockedOn": key_fields(shared)}
                    found.append(
                        {"left_id": left_id, "right_id": right_id, "score": scored.score,
                         "evidence": evidence, "found_at": now}
                    )  # fmt: skip
                    if high_score is not None and scored.score >= high_score:
                        stats.high_scores.append((left_id, right_id, scored.score))
                await upsert_candidates(session, DuplicateKind.customer, found)
                stats.candidates += len(found)
            await report(stats.pairs, None)
            if await cancelled():
                break
    return stats


# ---------------------------------------------------------------- contacts


def contact_keys(c: Any) -> list[str]:
    return K.record_keys(
        name=c.name,
        company=False,
        phones=[p.get("e164") for p in c.phones or []],
        emails=[e.get("address") for e in c.emails or []],
    )


async def scan_contacts(
    db: TenantDatabase,
    *,
    chunk: int = CHUNK,
    block_cap: int = BLOCK_CAP,
    min_score: float = MIN_SCORE,
    report: Report = _noop_report,
    cancelled: Cancelled = _never,
) -> ScanStats:
    """Contacts of live customers: the same person entered twice, at one customer or two."""
    stats = ScanStats("contact")
    blocks: dict[str, list[uuid.UUID]] = defaultdict(list)
    profiles: dict[uuid.UUID, Profile] = {}
    after: uuid.UUID | None = None
    live_customers = select(Customer.id).where(Customer.deleted_at.is_(None))
    while True:
        async with db.read() as session:
            stmt = (
                select(Contact.id, Contact.name, Contact.phones, Contact.emails)
                .where(Contact.deleted_at.is_(None), Contact.customer_id.in_(live_customers))
                .order_by(Contact.id)
                .limit(chunk)
            )
            if after is not None:
                stmt = stmt.where(Contact.id > after)
            rows = (await session.execute(stmt)).all()
        if not rows:
            break
        for row in rows:
            profiles[row.id] = contact_profile(row)
            for key in contact_keys(row):
                blocks[key].append(row.id)
        stats.records += len(rows)
        after = rows[-1].id
    pairs: dict[tuple[uuid.UUID, uuid.UUID], set[str]] = defaultdict(set)
    for key, ids in blocks.items():
        if 2 <= len(ids) <= block_cap:
            for a, b in combinations(sorted(ids), 2):
                pairs[(a, b)].add(key)
    stats.pairs = len(pairs)
    now = datetime.now(UTC)
    ordered = sorted(pairs.items())
    for start in range(0, len(ordered), chunk):
        found = []
        for (a, b), shared in ordered[start : start + chunk]:
            scored = compare(profiles[a], profiles[b])
            if scored.score >= min_score:
                found.append(
                    {"left_id": a, "right_id": b, "score": scored.score,
                     "evidence": scored.as_json() | {"blockedOn": key_fields(shared)},
                     "found_at": now}
                )  # fmt: skip
        async with db.transaction() as session:
            await upsert_candidates(session, DuplicateKind.contact, found)
        stats.candidates += len(found)
        await report(start + chunk, len(ordered))
        if await cancelled():
            break
    return stats


# ---------------------------------------------------------------- leads against customers


def lead_keys(lead: Any) -> list[str]:
    return K.record_keys(
        name=lead.name,
        company=False,
        phones=[lead.phone],
        emails=[lead.email],
        company_name=lead.company_name,
    )


STRONG = ("p:", "e:", "x:", "w:")


async def matching_customers(
    session: AsyncSession,
    keys: Sequence[str],
    *,
    limit: int = 50,
    extra: Any = None,
) -> list[Any]:
    """Live customers sharing a key (served by the GIN index on the keys): those sharing a phone,
    e-mail, tax id or website first, then those sharing a name or company key, at most ``limit``
    of each, so a common name cannot crowd out the customer with the same phone."""
    strong = [k for k in keys if k.startswith(STRONG)]
    weak = [k for k in keys if not k.startswith(STRONG)]
    found: dict[uuid.UUID, Any] = {}
    for group in (strong, weak):
        if not group:
            continue
        stmt = (
            select(*PROFILE_COLUMNS, Customer.dedup_keys)
            .where(
                Customer.deleted_at.is_(None),
                Customer.merged_into_id.is_(None),
                Customer.dedup_keys.op("&&")(cast(group, PG_ARRAY(Text))),
            )
            .order_by(Customer.id)
            .limit(limit)
        )
        if extra is not None:
            stmt = stmt.where(extra)
        for row in (await session.execute(stmt)).all():
            found.setdefault(row.id, row)
    return list(found.values())


async def scan_leads(
    db: TenantDatabase,
    *,
    chunk: int = 200,
    min_score: float = MIN_SCORE,
    report: Report = _noop_report,
    cancelled: Cancelled = _never,
) -> ScanStats:
    """Open leads that look like an existing customer (left: the lead, right: the customer)."""
    stats = ScanStats("lead")
    after: uuid.UUID | None = None
    while True:
        async with db.transaction() as session:
            stmt = (
                select(Lead)
                .where(
                    Lead.deleted_at.is_(None),
                    Lead.converted_customer_id.is_(None),
                    Lead.status != LeadStatus.converted,
                )
                .order_by(Lead.id)
                .limit(chunk)
            )
            if after is not None:
                stmt = stmt.where(Lead.id > after)
            leads = list((await session.execute(stmt)).scalars())
            if not leads:
                break
            now = datetime.now(UTC)
            found = []
            for lead in leads:
                keys = lead_keys(lead)
                profile = lead_profile(lead)
                for row in await matching_customers(session, keys, limit=20):
                    stats.pairs += 1
                    scored = compare(profile, customer_profile(row))
                    if scored.score < min_score:
                        continue
                    shared = set(keys) & set(row.dedup_keys or [])
                    found.append(
                        {"left_id": lead.id, "right_id": row.id, "score": scored.score,
                         "evidence": scored.as_json() | {"blockedOn": key_fields(shared)},
                         "found_at": now}
                    )  # fmt: skip
            await upsert_candidates(session, DuplicateKind.lead, found)
            stats.candidates += len(found)
            stats.records += len(leads)
            after = leads[-1].id
        await report(stats.records, None)
        if await cancelled():
            break
    return stats
