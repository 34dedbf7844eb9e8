"""Merging two customers, and undoing a merge.

A merge is one transaction: both customers are locked (``FOR UPDATE``, which also makes a
concurrent insert of a child row wait at its foreign-key check), the survivor takes its field
values by the rules below and the caller's explicit choices, every row of every table with a
foreign key to ``customers.id`` moves from the merged customer to the survivor (found from the
models' metadata, so a table added later is moved too), and the merged customer becomes a
tombstone: soft-deleted, ``merged_into_id`` set. The ``customer_merges`` row keeps what undo
needs: the ids of every moved row per table and column, the survivor's fields before, and the
adjustments made so that unique rules hold (a second primary contact demoted; an attendance of
the same activity removed, kept as a snapshot).

Rules for the survivor's values, field group by field group:
* identity (name, kind), classification and preferences: the survivor's unless empty;
* contact data (phone, e-mail, website, the address as one group): the more recently updated
  record's, unless its value is empty;
* notes: both, the merged record's appended (one of them alone when it contains the other);
* tags, preferred products, important dates, do-not-visit windows: the union;
* lifecycle stage: the furthest along (lead < churned < at risk < new < repeat < loyal: a live
  relationship beats a lapsed one, a lapsed one beats a mere lead);
* owner (with the pool fields): the survivor's, unless it has none;
* the customer code stays the survivor's (the tombstone keeps its own; codes are unique).
An explicit choice ``{field, from: survivor|merged}`` overrides the rule for that group.

Undo (within the company's window) moves back exactly the rows that moved, restores the
survivor's fields that the merge set and nobody changed since, re-creates removed attendances,
re-promotes demoted contacts and brings the merged customer back. If a moved row no longer points
at the survivor (it was moved to another customer or deleted since), undo refuses and says which.

The audit trail of both customers stays where it was written: entries keep their entity id, and
``audit_trail`` reads a survivor's entries together with those of every customer merged into it.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.activities.models import ActivityAttendee
from crm_core.audit import service as audit
from crm_core.audit.models import AuditEntry
from crm_core.contacts.models import Contact
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer, LifecycleStage
from crm_core.db.models import load_tenant_models
from crm_core.dedup import keys as dedup_keys
from crm_core.dedup.models import CandidateStatus, CustomerMerge, DuplicateCandidate, DuplicateKind
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.lifecycle import service as lifecycle

# Field groups a caller may choose for: name → columns.
GROUPS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "kind": ("kind",),
    "industry": ("industry",),
    "grade": ("grade",),
    "source": ("source",),
    "credit_rating": ("credit_rating",),
    "payment_habit": ("payment_habit",),
    "purchase_frequency": ("purchase_frequency",),
    "preferred_service_mode": ("preferred_service_mode",),
    "gender": ("gender",),
    "birth_date": ("birth_date",),
    "area_type": ("area_type",),
    "income_band": ("income_band",),
    "distance_km": ("distance_km",),
    "phone": ("phone", "phone_raw"),
    "email": ("email",),
    "website": ("website",),
    "address": (
        "address_line", "country", "province", "city", "district", "street", "postal_code",
    ),
    "tax_id": ("tax_id_encrypted", "tax_id_index"),
    "bank_account": ("bank_account_encrypted",),
    "notes": ("notes",),
    "tags": ("tags",),
    "preferred_products": ("preferred_products",),
    "important_dates": ("important_dates",),
    "do_not_visit": ("do_not_visit",),
    "lifecycle_stage": ("lifecycle_stage",),
    "owner": ("owner_id", "pool_entered_at", "pool_reason", "previous_owner_id", "claimed_at"),
}  # fmt: skip
NEWER_WINS = frozenset({"phone", "email", "website", "address"})
UNION = frozenset({"tags", "preferred_products", "important_dates", "do_not_visit"})
STAGE_RANK = {
    LifecycleStage.lead: 0,
    LifecycleStage.churned: 1,
    LifecycleStage.at_risk: 2,
    LifecycleStage.new: 3,
    LifecycleStage.repeat: 4,
    LifecycleStage.loyal: 5,
}
# Tables not moved: the merge record itself names both customers on purpose.
NOT_MOVED = frozenset({"customer_merges"})
DEFAULT_UNDO_WINDOW_DAYS = 30


class Side(enum.StrEnum):
    survivor = "survivor"
    merged = "merged"


@dataclass(frozen=True, slots=True)
class Choice:
    field: str
    side: Side


# ---------------------------------------------------------------- JSON-safe values and back


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$hex": value.hex()}
    return audit.plain(value)


def _decode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"$hex"}:
        return bytes.fromhex(value["$hex"])
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(value)
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# ---------------------------------------------------------------- which tables point at customers


def customer_references() -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) with a foreign key to ``customers.id``, from the models' metadata."""
    metadata = load_tenant_models()
    found: list[tuple[Table, Column[Any]]] = []
    for table in metadata.sorted_tables:
        if table.name in NOT_MOVED:
            continue
        for fk in table.foreign_keys:
            target = fk.column
            if target.table.name == "customers" and target.name == "id":
                found.append((table, fk.parent))
    return found


def _pk(table: Table) -> Column[Any]:
    (pk,) = table.primary_key.columns
    return pk


# ---------------------------------------------------------------- survivor values


def _group_values(c: Customer, group: str) -> dict[str, Any]:
    return {col: getattr(c, col) for col in GROUPS[group]}


def _union(a: list[Any], b: list[Any]) -> list[Any]:
    out = list(a or [])
    for item in b or []:
        if item not in out:
            out.append(item)
    return out


def _notes(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    if b in a:
        return a
    if a in b:
        return b
    return f"{a}\n\n{b}"


def survivor_values(
    survivor: Customer, merged: Customer, choices: Mapping[str, Side]
) -> dict[str, Any]:
    """The survivor's new column values (only those that differ from its current ones)."""
    merged_newer = (merged.updated_at or datetime.min.replace(tzinfo=UTC)) > (
        survivor.updated_at or datetime.min.replace(tzinfo=UTC)
    )
    out: dict[str, Any] = {}
    for group, columns in GROUPS.items():
        mine, theirs = _group_values(survivor, group), _group_values(merged, group)
        lead = columns[0]
        if group in choices:
            chosen = theirs if choices[group] is Side.merged else mine
        elif group in UNION:
            chosen = {lead: _union(mine[lead], theirs[lead])}
            if group == "tags":
                chosen = {lead: sorted(set(chosen[lead]))}
        elif group == "notes":
            chosen = {lead: _notes(mine[lead], theirs[lead])}
        elif group == "lifecycle_stage":
            a, b = LifecycleStage(mine[lead]), LifecycleStage(theirs[lead])
            chosen = {lead: b if STAGE_RANK[b] > STAGE_RANK[a] else a}
        elif group in NEWER_WINS:
            use_theirs = _empty(mine[lead]) or (merged_newer and not _empty(theirs[lead]))
            chosen = theirs if use_theirs else mine
        else:  # non-empty wins, the survivor first (owner: the survivor's unless it has none)
            chosen = theirs if _empty(mine[lead]) and not _empty(theirs[lead]) else mine
        for col, value in chosen.items():
            if value != mine[col]:
                out[col] = value
    return out


def _parse_choices(choices: Sequence[Choice]) -> dict[str, Side]:
    errors: list[FieldError] = []
    parsed: dict[str, Side] = {}
    for i, choice in enumerate(choices):
        if choice.field not in GROUPS:
            errors.append(
                FieldError(
                    f"choices.{i}.field",
                    ErrorCode.INVALID,
                    f"unknown field {choice.field!r}; one of {', '.join(sorted(GROUPS))}",
                )
            )
        elif choice.field in parsed:
            errors.append(FieldError(f"choices.{i}.field", ErrorCode.DUPLICATE, "chosen twice"))
        else:
            parsed[choice.field] = choice.side
    if errors:
        raise DomainError(errors)
    return parsed


# ---------------------------------------------------------------- merge


async def _lock_pair(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Customer]:
    """Both rows, locked in id order (two merges of the same pair cannot deadlock)."""
    stmt = (
        select(Customer)
        .where(Customer.id.in_(ids))
        .order_by(Customer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {c.id: c for c in (await session.execute(stmt)).scalars()}


def _check_live(
    principal: Principal, row: Customer | None, field: str, *, scoped: bool = True
) -> Customer:
    if row is None or row.deleted_at is not None or row.merged_into_id is not None:
        raise NotFound(field, "customer")
    if scoped and not principal.data_scope.covers_owner(row.owner_id):
        raise NotFound(field, "customer")
    return row


async def _demote_primaries(
    session: AsyncSession, survivor_id: uuid.UUID, merged_id: uuid.UUID
) -> list[str]:
    """One primary contact per customer: the survivor's stays, the merged one's is demoted."""
    has_primary = await session.scalar(
        select(
            exists().where(
                Contact.customer_id == survivor_id,
                Contact.is_primary.is_(True),
                Contact.deleted_at.is_(None),
            )
        )
    )
    if not has_primary:
        return []
    stmt = (
        update(Contact)
        .where(Contact.customer_id == merged_id, Contact.is_primary.is_(True))
        .values(is_primary=False, version=Contact.version + 1)
        .returning(Contact.id)
        .execution_options(synchronize_session=False)
    )
    return [str(i) for i in (await session.execute(stmt)).scalars()]


async def _remove_clashing_attendees(
    session: AsyncSession, survivor_id: uuid.UUID, merged_id: uuid.UUID
) -> list[dict[str, Any]]:
    """An activity both customers attended (same contact or none) keeps the survivor's row; the
    merged one's is removed and kept as a snapshot for undo."""
    table: Table = ActivityAttendee.__table__  # type: ignore[assignment]
    other = table.alias("other")
    clash = exists().where(
        other.c.customer_id == survivor_id,
        other.c.activity_id == table.c.activity_id,
        other.c.contact_id.is_not_distinct_from(table.c.contact_id),
    )
    stmt = delete(table).where(table.c.customer_id == merged_id, clash).returning(*table.c)
    rows = (await session.execute(stmt)).mappings().all()
    return [{k: _encode(v) for k, v in row.items()} for row in rows]


async def merge_customers(
    session: AsyncSession,
    principal: Principal,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    choices: Sequence[Choice] = (),
    *,
    score: float | None = None,
    automatic: bool = False,
    now: datetime | None = None,
) -> CustomerMerge:
    """Merge ``merged_id`` into ``survivor_id`` in the caller's transaction."""
    if survivor_id == merged_id:
        raise DomainError.one("merged_id", ErrorCode.INVALID, "a customer cannot merge into itself")
    chosen = _parse_choices(choices)
    now = now or datetime.now(UTC)
    rows = await _lock_pair(session, sorted((survivor_id, merged_id)))
    survivor = _check_live(principal, rows.get(survivor_id), "survivor_id")
    merged = _check_live(principal, rows.get(merged_id), "merged_id")

    merged_snapshot = {c.key: _encode(getattr(merged, c.key)) for c in Customer.__table__.columns}
    values = survivor_values(survivor, merged, chosen)
    survivor_changes = {k: [_encode(getattr(survivor, k)), _encode(v)] for k, v in values.items()}

    adjustments = {
        "demoted_primary_contacts": await _demote_primaries(session, survivor_id, merged_id),
        "removed_attendees": await _remove_clashing_attendees(session, survivor_id, merged_id),
    }
    moved: dict[str, list[str]] = {}
    for table, column in customer_references():
        pk = _pk(table)
        new_values: dict[Any, Any] = {column: survivor_id}
        if "version" in table.c:
            new_values[table.c.version] = table.c.version + 1
        stmt = (
            update(table)
            .where(column == merged_id)
            .values(new_values)
            .returning(pk)
            .execution_options(synchronize_session=False)
        )
        ids = list((await session.execute(stmt)).scalars())
        if ids:
            moved[f"{table.name}.{column.name}"] = [str(i) for i in ids]
            for row_id in ids:
                audit.record(
                    session,
                    principal,
                    "merge_move",
                    table.name,
                    row_id,
                    {column.name: [str(merged_id), str(survivor_id)]},
                )

    stage_before = survivor.lifecycle_stage
    for name, value in values.items():
        setattr(survivor, name, value)
    survivor.updated_by = principal.user_id
    _refresh(survivor)
    merged.deleted_at, merged.merged_at, merged.merged_into_id = now, now, survivor_id
    merged.updated_by = principal.user_id
    await session.flush()
    lifecycle.record_change(session, principal, survivor, stage_before, "merged duplicate")

    record = CustomerMerge(
        survivor_id=survivor_id,
        merged_id=merged_id,
        merged_snapshot=merged_snapshot,
        survivor_changes=survivor_changes,
        moved=moved,
        adjustments=adjustments,
        choices=[{"field": f, "from": s.value} for f, s in chosen.items()],
        score=score,
        automatic=automatic,
        merged_by=None if principal.user_id.int == 0 else principal.user_id,
        merged_at=now,
    )
    session.add(record)
    await session.flush()
    left, right = sorted((survivor_id, merged_id))
    await session.execute(
        update(DuplicateCandidate)
        .where(
            DuplicateCandidate.kind == DuplicateKind.customer,
            DuplicateCandidate.left_id == left,
            DuplicateCandidate.right_id == right,
        )
        .values(
            status=CandidateStatus.merged,
            merge_id=record.id,
            decided_by=record.merged_by,
            decided_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    counts = {k: len(v) for k, v in moved.items()}
    audit.record(
        session,
        principal,
        "merge",
        "customer",
        survivor_id,
        {
            "merged_id": str(merged_id),
            "merge_id": str(record.id),
            "fields": {k: v for k, v in survivor_changes.items() if k not in audit.SKIP},
            "moved": counts,
        },
    )
    audit.record(
        session,
        principal,
        "merged_into",
        "customer",
        merged_id,
        {"merged_into_id": [None, str(survivor_id)], "merge_id": str(record.id)},
    )
    return record


def _refresh(c: Customer) -> None:
    from crm_core.customers.service import refresh_search

    refresh_search(c)
    c.dedup_keys = dedup_keys.customer_keys(c)


# ---------------------------------------------------------------- undo


@dataclass(frozen=True, slots=True)
class UndoResult:
    merge: CustomerMerge
    survivor: Customer
    restored: Customer
    # Survivor fields the merge had set but someone changed since: left as they are now.
    kept_fields: list[str]


async def undo_merge(
    session: AsyncSession,
    principal: Principal,
    merge_id: uuid.UUID,
    *,
    window_days: int = DEFAULT_UNDO_WINDOW_DAYS,
    now: datetime | None = None,
) -> UndoResult:
    now = now or datetime.now(UTC)
    stmt = select(CustomerMerge).where(CustomerMerge.id == merge_id).with_for_update()
    record = (await session.execute(stmt)).scalar_one_or_none()
    if record is None:
        raise NotFound("merge_id", "merge")
    rows = await _lock_pair(session, sorted((record.survivor_id, record.merged_id)))
    survivor = rows.get(record.survivor_id)
    merged = rows.get(record.merged_id)
    if (
        survivor is None
        or merged is None
        or not principal.data_scope.covers_owner(survivor.owner_id)
    ):
        raise NotFound("merge_id", "merge")
    if record.undone_at is not None:
        raise DomainError.one("merge_id", ErrorCode.CONFLICT, "this merge was already undone")
    if now - record.merged_at > timedelta(days=window_days):
        raise DomainError.one(
            "merge_id",
            ErrorCode.INVALID,
            f"the undo window of {window_days} days after the merge has passed",
        )
    if survivor.deleted_at is not None or survivor.merged_into_id is not None:
        raise DomainError.one(
            "merge_id",
            ErrorCode.CONFLICT,
            "the surviving customer was deleted or merged again since; undo that first",
        )
    if merged.merged_into_id != survivor.id:
        raise DomainError.one(
            "merge_id", ErrorCode.CONFLICT, "the merged customer is no longer this merge's"
        )

    tables = {f"{t.name}.{c.name}": (t, c) for t, c in customer_references()}
    problems: list[str] = []
    for key, ids in record.moved.items():
        if key not in tables:
            problems.append(f"{key}: the table no longer exists")
            continue
        table, column = tables[key]
        uuids = [uuid.UUID(i) for i in ids]
        still = await session.scalar(
            select(_count()).where(_pk(table).in_(uuids), column == survivor.id)
        )
        if still != len(uuids):
            problems.append(
                f"{len(uuids) - int(still or 0)} of {len(uuids)} {table.name} rows moved by the "
                "merge were moved to another customer or deleted since"
            )
    if problems:
        raise DomainError.one(
            "merge_id", ErrorCode.CONFLICT, "cannot undo the merge: " + "; ".join(problems)
        )

    for key, ids in record.moved.items():
        table, column = tables[key]
        new_values: dict[Any, Any] = {column: merged.id}
        if "version" in table.c:
            new_values[table.c.version] = table.c.version + 1
        await session.execute(
            update(table)
            .where(_pk(table).in_([uuid.UUID(i) for i in ids]), column == survivor.id)
            .values(new_values)
            .execution_options(synchronize_session=False)
        )
        for row_id in ids:
            audit.record(
                session,
                principal,
                "unmerge_move",
                table.name,
                uuid.UUID(row_id),
                {column.name: [str(survivor.id), str(merged.id)]},
            )
    attendees: Table = ActivityAttendee.__table__  # type: ignore[assignment]
    removed = record.adjustments.get("removed_attendees") or []
    if removed:
        await session.execute(
            insert(attendees),
            [{k: _decode(attendees.c[k], v) for k, v in row.items()} for row in removed],
        )
    demoted = [uuid.UUID(i) for i in record.adjustments.get("demoted_primary_contacts") or []]
    if demoted:
        await session.execute(
            update(Contact)
            .where(Contact.id.in_(demoted), Contact.customer_id == merged.id)
            .values(is_primary=True, version=Contact.version + 1)
            .execution_options(synchronize_session=False)
        )

    columns = Customer.__table__.c
    kept: list[str] = []
    stage_before = survivor.lifecycle_stage
    for name, (before, after) in record.survivor_changes.items():
        current = _encode(getattr(survivor, name))
        if current == after:
            setattr(survivor, name, _decode(columns[name], before))
        else:
            kept.append(name)
    survivor.updated_by = principal.user_id
    _refresh(survivor)
    merged.deleted_at = merged.merged_at = merged.merged_into_id = None
    merged.updated_by = principal.user_id
    record.undone_at = now
    record.undone_by = None if principal.user_id.int == 0 else principal.user_id
    await session.flush()
    lifecycle.record_change(session, principal, survivor, stage_before, "merge undone")
    await session.execute(
        update(DuplicateCandidate)
        .where(DuplicateCandidate.merge_id == record.id)
        .values(status=CandidateStatus.dismissed, decided_by=record.undone_by, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        principal,
        "unmerge",
        "customer",
        survivor.id,
        {"merged_id": str(merged.id), "merge_id": str(record.id), "kept_fields": kept},
    )
    audit.record(
        session,
        principal,
        "unmerge",
        "customer",
        merged.id,
        {"merged_into_id": [str(survivor.id), None], "merge_id": str(record.id)},
    )
    return UndoResult(record, survivor, merged, kept)


def _count() -> Any:
    from sqlalchemy import func

    return func.count()


# ---------------------------------------------------------------- reading across merges


async def merged_ids(session: AsyncSession, customer_id: uuid.UUID) -> list[uuid.UUID]:
    """The customer and every customer merged into it, directly or through a chain."""
    found = [customer_id]
    frontier = [customer_id]
    while frontier:
        stmt = select(Customer.id).where(Customer.merged_into_id.in_(frontier))
        frontier = [i for i in (await session.execute(stmt)).scalars() if i not in found]
        found.extend(frontier)
    return found


async def audit_trail(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, *, limit: int = 200
) -> list[AuditEntry]:
    """A customer's audit entries, with those of every customer merged into it, newest first."""
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("id", "customer")
    ids = await merged_ids(session, customer_id)
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity == "customer", AuditEntry.entity_id.in_(ids))
        .order_by(AuditEntry.at.desc(), AuditEntry.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
