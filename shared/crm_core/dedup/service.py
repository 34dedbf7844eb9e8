"""Deduplication use cases: the review queue, the check before a write, the company's settings,
the scan with its automatic merges, and merge/undo with the company's undo window."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contacts.models import Contact
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.db.engine import TenantDatabase
from crm_core.dedup import keys as K
from crm_core.dedup import merge as merging
from crm_core.dedup import scan
from crm_core.dedup.models import CandidateStatus, CustomerMerge, DuplicateCandidate, DuplicateKind
from crm_core.dedup.schemas import SETTING, DedupSettings, DedupSettingsFields, settings_from
from crm_core.dedup.scoring import Evidence, Profile, Score, compare, customer_profile
from crm_core.errors import DomainError, ErrorCode, NotFound
from crm_core.identity.principal import Principal
from crm_core.leads.models import Lead
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Tenant
from crm_core.tenants.repository import settings_of
from crm_core.validation import parse

MAX_MATCHES = 20


# ---------------------------------------------------------------- settings


async def get_settings(session: AsyncSession, tenant_id: uuid.UUID) -> DedupSettings:
    return settings_from(await settings_of(session, tenant_id))


async def set_settings(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any]
) -> DedupSettings:
    """Merge the given fields into the company's settings (the tenant row locked meanwhile)."""
    parsed = parse(DedupSettingsFields, dict(data))
    changes = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("undo_window_days", "min_score"):
        if name in changes and changes[name] is None:
            raise DomainError.one(name, ErrorCode.REQUIRED, "cannot be empty")
    stmt = select(Tenant).where(Tenant.id == principal.tenant.id).with_for_update()
    tenant = (await session.execute(stmt)).scalar_one()
    before = settings_from(tenant.settings)
    after = DedupSettings.model_validate(before.model_dump() | changes)
    tenant.settings = {**tenant.settings, SETTING: after.model_dump()}
    await session.flush()
    audit.record(
        session,
        principal,
        "update",
        "dedup_settings",
        principal.tenant.id,
        audit.diff(before.model_dump(), after.model_dump()),
    )
    return after


# ---------------------------------------------------------------- the review queue


@dataclass(frozen=True, slots=True)
class CandidateFilter:
    kind: DuplicateKind | None = None
    status: CandidateStatus | None = CandidateStatus.open
    min_score: float | None = None
    record_id: uuid.UUID | None = None  # either side


def _visible_pair(principal: Principal) -> ColumnElement[bool]:
    """Both records live, and inside the principal's data scope (via their customers)."""
    customers = customers_repo.visible_ids(principal.data_scope).where(
        Customer.merged_into_id.is_(None)
    )
    contacts = select(Contact.id).where(
        Contact.deleted_at.is_(None), Contact.customer_id.in_(customers)
    )
    lead_scope = principal.data_scope.owner_condition(Lead.owner_id)
    leads = select(Lead.id).where(Lead.deleted_at.is_(None))
    if lead_scope is not None:
        leads = leads.where(lead_scope)
    C = DuplicateCandidate
    return or_(
        and_(C.kind == DuplicateKind.customer, C.left_id.in_(customers), C.right_id.in_(customers)),
        and_(C.kind == DuplicateKind.contact, C.left_id.in_(contacts), C.right_id.in_(contacts)),
        and_(C.kind == DuplicateKind.lead, C.left_id.in_(leads), C.right_id.in_(customers)),
    )


def candidates_select(principal: Principal, f: CandidateFilter) -> Select[Any]:
    C = DuplicateCandidate
    # A status other than open shows the decision even when a record is gone since (merged).
    stmt = select(C)
    if f.status is CandidateStatus.open or f.status is None:
        stmt = stmt.where(_visible_pair(principal))
    if f.kind is not None:
        stmt = stmt.where(C.kind == f.kind)
    if f.status is not None:
        stmt = stmt.where(C.status == f.status)
    if f.min_score is not None:
        stmt = stmt.where(C.score >= f.min_score)
    if f.record_id is not None:
        stmt = stmt.where(or_(C.left_id == f.record_id, C.right_id == f.record_id))
    if f.status not in (None, CandidateStatus.open):
        # Decided pairs: only those whose records the principal could see when live.
        stmt = stmt.where(_decided_visible(principal))
    return stmt


def _decided_visible(principal: Principal) -> ColumnElement[bool]:
    if principal.data_scope.owner_condition(Customer.owner_id) is None:
        return DuplicateCandidate.id.is_not(None)
    customers = select(Customer.id).where(customers_repo.visible(principal.data_scope))
    contacts = select(Contact.id).where(Contact.customer_id.in_(customers))
    C = DuplicateCandidate
    return or_(
        and_(C.kind == DuplicateKind.customer, C.left_id.in_(customers)),
        and_(C.kind == DuplicateKind.contact, C.left_id.in_(contacts)),
        and_(C.kind == DuplicateKind.lead, C.right_id.in_(customers)),
        false(),
    )


async def get_candidate(
    session: AsyncSession, principal: Principal, candidate_id: uuid.UUID, *, lock: bool = False
) -> DuplicateCandidate:
    stmt = select(DuplicateCandidate).where(
        DuplicateCandidate.id == candidate_id, _visible_pair(principal)
    )
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("id", "duplicate candidate")
    return found


async def dismiss(
    session: AsyncSession, principal: Principal, candidate_id: uuid.UUID
) -> DuplicateCandidate:
    """Not duplicates: the pair leaves the queue and later scans leave it dismissed."""
    candidate = await get_candidate(session, principal, candidate_id, lock=True)
    if candidate.status is not CandidateStatus.open:
        raise DomainError.one("id", ErrorCode.CONFLICT, f"already {candidate.status.value}")
    candidate.status = CandidateStatus.dismissed
    candidate.decided_by = principal.user_id
    candidate.decided_at = datetime.now(UTC)
    await session.flush()
    audit.record(
        session,
        principal,
        "dismiss",
        "duplicate_candidate",
        candidate.id,
        {"status": ["open", "dismissed"]},
    )
    return candidate


# ---------------------------------------------------------------- merge and undo


async def merge(
    session: AsyncSession,
    principal: Principal,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    choices: Sequence[merging.Choice] = (),
) -> CustomerMerge:
    left, right = sorted((survivor_id, merged_id))
    score = await session.scalar(
        select(DuplicateCandidate.score).where(
            DuplicateCandidate.kind == DuplicateKind.customer,
            DuplicateCandidate.left_id == left,
            DuplicateCandidate.right_id == right,
        )
    )
    return await merging.merge_customers(
        session, principal, survivor_id, merged_id, choices, score=score
    )


async def undo(
    session: AsyncSession, principal: Principal, merge_id: uuid.UUID
) -> merging.UndoResult:
    window = (await get_settings(session, principal.tenant.id)).undo_window_days
    return await merging.undo_merge(session, principal, merge_id, window_days=window)


async def get_merge(
    session: AsyncSession, principal: Principal, merge_id: uuid.UUID
) -> CustomerMerge | None:
    stmt = select(CustomerMerge).where(
        CustomerMerge.id == merge_id,
        CustomerMerge.survivor_id.in_(
            select(Customer.id).where(customers_repo.visible(principal.data_scope))
        ),
    )
    return (await session.execute(stmt)).scalar_one_or_none()


# ---------------------------------------------------------------- the check before a write


@dataclass(frozen=True, slots=True)
class Match:
    customer: Customer
    score: Score
    blocked_on: list[str]

    @property
    def evidence(self) -> list[Evidence]:
        return self.score.evidence


def _input_profile(fields: Mapping[str, Any], *, default_region: str) -> tuple[Profile, list[str]]:
    """What the would-be customer looks like after the service's own normalisation."""
    phone = None
    if fields.get("phone"):
        phone = normalize.normalize_phone(str(fields["phone"]), default_region=default_region).e164
    email = None
    if fields.get("email"):
        email = normalize.normalize_email(str(fields["email"])).normalized
    city, district, street = fields.get("city"), fields.get("district"), fields.get("street")
    if fields.get("address_line") and not (city or district or street):
        parts = normalize.split_address(str(fields["address_line"]))
        city, district, street = parts.city, parts.district, parts.street
    kind = str(fields.get("kind") or "company")
    row = Customer(
        id=uuid.UUID(int=0),
        name=fields.get("name") or "",
        kind=kind,
        phone=phone,
        email=email,
        website=fields.get("website"),
        city=city,
        district=district,
        street=street,
        address_line=fields.get("address_line"),
    )
    return customer_profile(row), K.customer_keys(row)


async def check_duplicates(
    session: AsyncSession,
    principal: Principal,
    fields: Mapping[str, Any],
    *,
    exclude_id: uuid.UUID | None = None,
    default_region: str = "CN",
    limit: int = 10,
) -> list[Match]:
    """Live customers in the principal's scope that the given fields would duplicate, best first.
    One indexed look-up (the GIN index on the customers' keys), then scoring in memory."""
    if not fields.get("name") and not fields.get("phone") and not fields.get("email"):
        raise DomainError.one("input.name", ErrorCode.REQUIRED, "give a name, phone or e-mail")
    profile, keys = _input_profile(fields, default_region=default_region)
    min_score = (await get_settings(session, principal.tenant.id)).min_score
    extra = customers_repo.visible(principal.data_scope)
    if exclude_id is not None:
        extra = and_(extra, Customer.id != exclude_id)
    rows = await scan.matching_customers(session, keys, limit=MAX_MATCHES * 2, extra=extra)
    scored = []
    for row in rows:
        s = compare(profile, customer_profile(row))
        if s.score >= min_score:
            scored.append((s, row.id, sorted(set(keys) & set(row.dedup_keys or []))))
    scored.sort(key=lambda t: -t[0].score)
    scored = scored[: min(limit, MAX_MATCHES)]
    found = {c.id: c for c in await customers_repo.get_many(session, [i for _, i, _ in scored])}
    return [Match(found[i], s, scan.key_fields(shared)) for s, i, shared in scored if i in found]


# ---------------------------------------------------------------- the scan and automatic merges


@dataclass
class ScanResult:
    stats: list[scan.ScanStats]
    auto_merged: list[uuid.UUID]
    auto_merge_errors: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "scans": [s.as_dict() for s in self.stats],
            "autoMerged": [str(i) for i in self.auto_merged],
            "autoMergeErrors": self.auto_merge_errors,
        }


KINDS = ("customer", "contact", "lead")


async def run_scan(
    db: TenantDatabase,
    tenant: TenantRef,
    *,
    kinds: Sequence[str] = KINDS,
    report: scan.Report = scan._noop_report,
    cancelled: scan.Cancelled = scan._never,
    chunk: int = scan.CHUNK,
) -> ScanResult:
    async with db.read() as session:
        config = await get_settings(session, tenant.id)
    stats: list[scan.ScanStats] = []
    high: list[tuple[uuid.UUID, uuid.UUID, float]] = []
    if "customer" in kinds:
        s = await scan.scan_customers(
            db,
            chunk=chunk,
            min_score=config.min_score,
            high_score=config.auto_merge_threshold,
            report=report,
            cancelled=cancelled,
        )
        stats.append(s)
        high = s.high_scores
    if "contact" in kinds and not await cancelled():
        stats.append(
            await scan.scan_contacts(
                db, chunk=chunk, min_score=config.min_score, cancelled=cancelled
            )
        )
    if "lead" in kinds and not await cancelled():
        stats.append(await scan.scan_leads(db, min_score=config.min_score, cancelled=cancelled))
    merged, errors = await auto_merge(db, tenant, high)
    return ScanResult(stats, merged, errors)


async def auto_merge(
    db: TenantDatabase, tenant: TenantRef, pairs: Sequence[tuple[uuid.UUID, uuid.UUID, float]]
) -> tuple[list[uuid.UUID], int]:
    """Merge each pair (best first) into its older customer, as the system; each merge is its own
    transaction, and a pair whose customer was merged a moment ago is skipped."""
    system = Principal.system(tenant)
    done: list[uuid.UUID] = []
    errors = 0
    for left, right, score in sorted(pairs, key=lambda p: -p[2]):
        try:
            async with db.transaction() as session:
                rows = {
                    c.id: c
                    for c in (
                        await session.execute(
                            select(Customer.id, Customer.created_at).where(
                                Customer.id.in_((left, right))
                            )
                        )
                    ).all()
                }
                if len(rows) < 2:
                    continue
                survivor, merged = sorted((left, right), key=lambda i: (rows[i].created_at, i))
                record = await merging.merge_customers(
                    session, system, survivor, merged, score=score, automatic=True
                )
                done.append(record.id)
        except DomainError:
            errors += 1
    return done, errors
