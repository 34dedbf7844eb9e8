"""The shared customer pool (公海): claim, release, automatic reclaim, and the company's rules.

A customer without an owner is in the pool. Every role allowed ``customer:claim`` sees the whole
pool whatever its data scope, and takes customers from it for itself; the owner or a manager puts
them back; customers nobody worked on for the company's period go back on their own
(``reclaim_stale``, run by the periodic worker and by an admin on demand).

Claims race: two reps clicking the same customer at once. The claim is one conditional UPDATE
(``… WHERE owner_id IS NULL``): PostgreSQL re-checks the condition after the first writer commits,
so exactly one transaction takes the row and the other gets a CONFLICT for that item.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.audit import service as audit
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.pool import repository
from crm_core.pool.models import PoolReason
from crm_core.pool.schemas import SETTING, PoolRules, PoolRulesFields, rules_from
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Role, Tenant
from crm_core.tenants.repository import settings_of
from crm_core.validation import parse

MAX_PER_CALL = 100
RECLAIM_BATCH = 500
# Who may put back customers they do not own (within their data scope).
MANAGERS = frozenset({Role.owner, Role.admin, Role.manager})


async def rules(session: AsyncSession, tenant_id: uuid.UUID) -> PoolRules:
    return rules_from(await settings_of(session, tenant_id))


async def set_rules(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any]
) -> PoolRules:
    """Merge the given fields into the company's rules (the tenant row is locked meanwhile, so
    two admins' partial updates do not lose each other's fields)."""
    parsed = parse(PoolRulesFields, dict(data))
    changes = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if "cooldown_days" in changes and changes["cooldown_days"] is None:
        raise DomainError.one("cooldown_days", ErrorCode.REQUIRED, "cannot be empty (0 is none)")
    stmt = select(Tenant).where(Tenant.id == principal.tenant.id).with_for_update()
    tenant = (await session.execute(stmt)).scalar_one()
    before = rules_from(tenant.settings)
    after = PoolRules.model_validate(before.model_dump() | changes)
    tenant.settings = {**tenant.settings, SETTING: after.model_dump()}
    await session.flush()
    audit.record(
        session,
        principal,
        "update",
        "pool_rules",
        principal.tenant.id,
        audit.diff(before.model_dump(), after.model_dump()),
    )
    return after


def _ids_checked(ids: Sequence[uuid.UUID]) -> None:
    if not ids:
        raise DomainError.one("ids", ErrorCode.REQUIRED, "name at least one customer")
    if len(ids) > MAX_PER_CALL:
        raise DomainError.one("ids", ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_PER_CALL} per call")
    seen: set[uuid.UUID] = set()
    duplicates = []
    for i, cid in enumerate(ids):
        if cid in seen:
            duplicates.append(FieldError(f"ids.{i}", ErrorCode.DUPLICATE, "named twice"))
        seen.add(cid)
    if duplicates:
        raise DomainError(duplicates)


def _lock_key(user_id: uuid.UUID) -> int:
    """A signed 64-bit advisory-lock key for one user (the user ids are random UUIDs)."""
    return int.from_bytes(user_id.bytes[:8], "big", signed=True)


async def claim(
    session: AsyncSession,
    principal: Principal,
    ids: Sequence[uuid.UUID],
    *,
    now: datetime | None = None,
) -> list[Customer]:
    """Take pool customers for the caller, all or nothing; each refusal names its item."""
    _ids_checked(ids)
    if principal.client_id is not None:
        raise DomainError.one(None, ErrorCode.FORBIDDEN, "only a person can own customers")
    now = now or datetime.now(UTC)
    me = principal.user_id
    # One claim at a time per rep, so the max-owned count cannot be outrun by parallel claims.
    await session.execute(select(func.pg_advisory_xact_lock(_lock_key(me))))
    pool_rules = await rules(session, principal.tenant.id)
    found = await repository.live_by_ids(session, ids)
    errors: list[FieldError] = []
    cooldown = timedelta(days=pool_rules.cooldown_days)
    for i, cid in enumerate(ids):
        row = found.get(cid)
        field = f"ids.{i}"
        if row is None or (row.owner_id is not None and row.owner_id != me):
            # Someone else's customer is as absent from the pool as a missing one.
            errors.append(FieldError(field, ErrorCode.NOT_FOUND, "customer not in the pool"))
        elif row.owner_id == me:
            errors.append(FieldError(field, ErrorCode.INVALID, "already yours"))
        elif (
            row.pool_reason is PoolReason.reclaimed
            and row.previous_owner_id == me
            and row.pool_entered_at is not None
            and now < row.pool_entered_at + cooldown
        ):
            errors.append(
                FieldError(
                    field,
                    ErrorCode.FORBIDDEN,
                    f"reclaimed from you; you may claim it again after {pool_rules.cooldown_days}"
                    " days",
                )
            )
    if errors:
        raise DomainError(errors)
    if pool_rules.max_owned is not None:
        room = pool_rules.max_owned - await repository.owned_count(session, me)
        if len(ids) > room:
            raise DomainError(
                [
                    FieldError(
                        f"ids.{i}",
                        ErrorCode.LIMIT_EXCEEDED,
                        f"you may own at most {pool_rules.max_owned} customers",
                    )
                    for i in range(max(room, 0), len(ids))
                ]
            )
    taken = set(
        (
            await session.execute(
                update(Customer)
                .where(
                    Customer.id.in_(ids), Customer.owner_id.is_(None), Customer.deleted_at.is_(None)
                )
                .values(
                    owner_id=me,
                    claimed_at=now,
                    pool_entered_at=None,
                    pool_reason=None,
                    previous_owner_id=None,
                    updated_by=me,
                    version=Customer.version + 1,
                )
                .returning(Customer.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    lost = [
        FieldError(f"ids.{i}", ErrorCode.CONFLICT, "someone else claimed it just now")
        for i, cid in enumerate(ids)
        if cid not in taken
    ]
    if lost:
        raise DomainError(lost)
    for cid in ids:
        before = found[cid]
        audit.record(
            session,
            principal,
            "claim",
            "customer",
            cid,
            {
                "owner_id": [None, str(me)],
                "pool_reason": [audit.plain(before.pool_reason), None],
            },
        )
    stmt = select(Customer).where(Customer.id.in_(ids)).execution_options(populate_existing=True)
    claimed = {c.id: c for c in (await session.execute(stmt)).scalars()}
    return [claimed[cid] for cid in ids]


async def release(
    session: AsyncSession,
    principal: Principal,
    ids: Sequence[uuid.UUID],
    reason: PoolReason = PoolReason.released,
    *,
    now: datetime | None = None,
) -> list[Customer]:
    """Put customers back in the pool, all or nothing: their owner, or a manager for customers in
    the manager's data scope. ``reclaimed`` is the system's reason, not a person's."""
    if reason is PoolReason.reclaimed:
        raise DomainError.one("reason", ErrorCode.INVALID, "reclaimed is set by the system only")
    _ids_checked(ids)
    now = now or datetime.now(UTC)
    found = {
        c.id: c for c in await customers_repo.get_many(session, ids, scope=principal.data_scope)
    }
    errors: list[FieldError] = []
    for i, cid in enumerate(ids):
        row = found.get(cid)
        field = f"ids.{i}"
        if row is None:
            errors.append(FieldError(field, ErrorCode.NOT_FOUND, "customer not found"))
        elif row.owner_id is None:
            errors.append(FieldError(field, ErrorCode.INVALID, "already in the pool"))
        elif row.owner_id != principal.user_id and principal.role not in MANAGERS:
            errors.append(FieldError(field, ErrorCode.FORBIDDEN, "only its owner or a manager"))
    if errors:
        raise DomainError(errors)
    out = []
    for cid in ids:
        row = found[cid]
        previous = row.owner_id
        row.owner_id, row.previous_owner_id = None, previous
        row.pool_entered_at, row.pool_reason, row.claimed_at = now, reason, None
        row.updated_by = principal.user_id
        audit.record(
            session,
            principal,
            "release",
            "customer",
            cid,
            {"owner_id": [audit.plain(previous), None], "pool_reason": [None, reason.value]},
        )
        out.append(row)
    await session.flush()
    return out


@dataclass(frozen=True, slots=True)
class ReclaimResult:
    reclaimed: list[uuid.UUID]
    # True when the batch was full: call again (in a new transaction) for the rest.
    more: bool


async def reclaim_stale(
    session: AsyncSession,
    tenant: TenantRef,
    now: datetime,
    *,
    batch: int = RECLAIM_BATCH,
    actor: Principal | None = None,
) -> ReclaimResult:
    """Return to the pool at most ``batch`` owned customers with no interaction and no follow-up
    for the company's ``reclaim_after_days`` (nothing when that rule is off).

    Built for the periodic worker: one tenant per message, chunked (call again while ``more``,
    one transaction per chunk), and idempotent (a reclaimed customer has no owner, so a repeated
    run with the same ``now`` finds nothing more; rows locked by a request are skipped and seen by
    the next run). Each reclaimed customer is audited, by ``actor`` or the system.
    """
    pool_rules = await rules(session, tenant.id)
    if pool_rules.reclaim_after_days is None:
        return ReclaimResult([], False)
    cutoff = now - timedelta(days=pool_rules.reclaim_after_days)
    candidates = (await session.execute(repository.stale_select(cutoff, batch))).all()
    if not candidates:
        return ReclaimResult([], False)
    who = actor or Principal.system(tenant)
    owners: dict[uuid.UUID, uuid.UUID | None] = {row[0]: row[1] for row in candidates}
    ids = list(owners)
    await session.execute(
        update(Customer)
        .where(Customer.id.in_(ids), Customer.owner_id.is_not(None))
        .values(
            owner_id=None,
            previous_owner_id=Customer.owner_id,
            pool_entered_at=now,
            pool_reason=PoolReason.reclaimed,
            claimed_at=None,
            updated_by=None if actor is None else actor.user_id,
            version=Customer.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    for cid in ids:
        audit.record(
            session,
            who,
            "reclaim",
            "customer",
            cid,
            {
                "owner_id": [str(owners[cid]), None],
                "pool_reason": [None, PoolReason.reclaimed.value],
                "reclaim_after_days": pool_rules.reclaim_after_days,
            },
        )
    return ReclaimResult(ids, len(ids) == batch)
