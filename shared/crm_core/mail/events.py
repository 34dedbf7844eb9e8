"""The events that cause mail: what each one queues, with its event key (one mail per event).

Write-time events (a complaint assigned, a job ended, a password reset) are queued by the service
that causes them, in its transaction. Time-based ones (follow-up due or overdue, complaint near its
SLA, contract expiring in 30/7/1 days, delivery due) are found by ``scan``, run per tenant by the
scheduler; each scan is chunked and skips events that already have their mail, so it is cheap to
repeat and a missed period is caught up by the next.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, String, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.complaints.models import Complaint, ComplaintStatus
from crm_core.contracts.models import (
    AcceptanceStatus,
    Contract,
    ContractDelivery,
    ContractStatus,
)
from crm_core.customers.models import Customer
from crm_core.followups.models import FollowUp, FollowUpStatus
from crm_core.mail.models import MailOutbox
from crm_core.mail.outbox import queue_mail
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Membership, Tenant, User

CHUNK = 300  # rows per kind per scan message
CONTRACT_THRESHOLDS = (1, 7, 30)  # days before the end: one mail at each
# How far back a scan still mails an event (older ones are history, not news).
LOOKBACK = timedelta(days=3)


def _fmt(value: datetime | date | None) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat() if value is not None else ""


async def tenant_locale(session: AsyncSession, tenant: TenantRef) -> tuple[str, dict[str, Any]]:
    row = (
        await session.execute(select(Tenant.locale, Tenant.settings).where(Tenant.id == tenant.id))
    ).one()
    return row.locale, row.settings if isinstance(row.settings, dict) else {}


async def member_addresses(
    session: AsyncSession, tenant: TenantRef, user_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    """E-mail addresses of active members of the tenant, by user id (others are not mailed)."""
    ids = sorted({u for u in user_ids if u is not None})
    if not ids:
        return {}
    rows = await session.execute(
        select(User.id, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id.in_(ids),
            User.is_active.is_(True),
            Membership.tenant_id == tenant.id,
            Membership.is_active.is_(True),
        )
    )
    return {r.id: r.email for r in rows}


def _no_mail_yet(key: Any) -> Any:
    return ~exists().where(MailOutbox.event_key == key)


def _epoch(column: Any) -> Any:
    """Whole seconds since the epoch, as Python's ``int(dt.timestamp())`` writes them."""
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def _key(prefix: str, *parts: Any) -> Any:
    out: Any = literal(prefix)
    for part in parts:
        out = out + literal(":") + cast(part, String)
    return out


# --- write-time events -----------------------------------------------------------------------


async def complaint_assigned(
    session: AsyncSession, tenant: TenantRef, complaint: Complaint
) -> None:
    """A complaint got an assignee (on create or on a change of assignee)."""
    if complaint.assignee_id is None:
        return
    to = (await member_addresses(session, tenant, [complaint.assignee_id])).get(
        complaint.assignee_id
    )
    if to is None:
        return
    customer = await session.get(Customer, complaint.customer_id)
    locale, _ = await tenant_locale(session, tenant)
    await queue_mail(
        session,
        tenant,
        event_key=f"complaint.assigned:{complaint.id}:{complaint.assignee_id}:{complaint.version}",
        to=to,
        template="complaint_assigned",
        context={
            "customer": customer.name if customer else "",
            "severity": complaint.severity.value,
            "sla_due_at": _fmt(complaint.sla_due_at),
            "description": complaint.description[:500],
        },
        locale=locale,
    )


async def visit_planned(
    session: AsyncSession,
    tenant: TenantRef,
    *,
    plan_id: uuid.UUID,
    customer_id: uuid.UUID,
    visitor_id: uuid.UUID,
    planned_at: datetime,
    purpose: str,
    place: str | None,
    actor_id: uuid.UUID | None,
) -> None:
    """A visit plan was made for, assigned to, or moved for a rep: mail the rep.

    Not when the rep is the one who did it (they know; a rep planning their own week would get a
    mail per visit). One mail per plan, rep and planned time: a reschedule or a new rep is a new
    event, a save that changes neither is not."""
    if actor_id is not None and actor_id == visitor_id:
        return
    to = (await member_addresses(session, tenant, [visitor_id])).get(visitor_id)
    if to is None:
        return
    customer = await session.get(Customer, customer_id)
    row = (
        await session.execute(select(Tenant.locale, Tenant.timezone).where(Tenant.id == tenant.id))
    ).one()
    actor = (
        (await session.execute(select(User.name).where(User.id == actor_id))).scalar_one_or_none()
        if actor_id is not None
        else None
    )
    try:
        zone = ZoneInfo(row.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    when = planned_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") + f" ({row.timezone})"
    await queue_mail(
        session,
        tenant,
        event_key=f"visit.planned:{plan_id}:{visitor_id}:{int(planned_at.timestamp())}",
        to=to,
        template="visit_planned",
        context={
            "customer": customer.name if customer else "",
            "planned_at": when,
            "purpose": purpose[:500],
            "place": place or "",
            "planned_by": actor or "",
        },
        locale=row.locale,
    )


# --- the scan ----------------------------------------------------------------------------------


# (event key, the user to mail, template, template context)
Event = tuple[str, uuid.UUID | None, str, Mapping[str, Any]]


@dataclass
class ScanResult:
    queued: int = 0
    more: bool = False  # a kind filled its chunk: scan again


async def _queue(
    session: AsyncSession,
    tenant: TenantRef,
    locale: str,
    rows: list[Event],
) -> int:
    addresses = await member_addresses(session, tenant, [r[1] for r in rows])
    queued = 0
    for key, user_id, template, context in rows:
        to = addresses.get(user_id) if user_id else None
        if to is None:
            continue
        if await queue_mail(
            session, tenant, event_key=key, to=to, template=template, context=context, locale=locale
        ):
            queued += 1
    return queued


async def scan(session: AsyncSession, tenant: TenantRef, now: datetime | None = None) -> ScanResult:
    now = now or datetime.now(UTC)
    today = now.date()
    locale, settings = await tenant_locale(session, tenant)
    configured = settings.get("notifications")
    notes: dict[str, Any] = configured if isinstance(configured, dict) else {}
    sla_warn = timedelta(hours=float(notes.get("complaint_sla_warn_hours", 2)))
    delivery_days = int(notes.get("delivery_due_days", 1))
    result = ScanResult()
    batches: list[list[Event]] = []
    stmt: Any
    rows: Any

    # Follow-ups: due (remind_at reached) and overdue (scheduled time passed), once per time set.
    due_key = _key("followup.due", FollowUp.id, _epoch(FollowUp.remind_at))
    stmt = (
        select(FollowUp, Customer.name)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(
            FollowUp.status == FollowUpStatus.planned,
            FollowUp.deleted_at.is_(None),
            FollowUp.remind_at <= now,
            FollowUp.remind_at > now - LOOKBACK,
            _no_mail_yet(due_key),
        )
        .limit(CHUNK)
    )
    rows = (await session.execute(stmt)).all()
    batches.append(
        [
            (
                f"followup.due:{f.id}:{int(f.remind_at.timestamp())}",
                f.owner_id,
                "followup_due",
                {
                    "customer": name,
                    "scheduled_at": _fmt(f.scheduled_at),
                    "content": f.content or "",
                },
            )
            for f, name in rows
        ]
    )
    result.more |= len(rows) == CHUNK
    over_key = _key("followup.overdue", FollowUp.id, _epoch(FollowUp.scheduled_at))
    stmt = (
        select(FollowUp, Customer.name)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(
            FollowUp.status == FollowUpStatus.planned,
            FollowUp.deleted_at.is_(None),
            FollowUp.scheduled_at <= now,
            FollowUp.scheduled_at > now - LOOKBACK,
            _no_mail_yet(over_key),
        )
        .limit(CHUNK)
    )
    rows = (await session.execute(stmt)).all()
    batches.append(
        [
            (
                f"followup.overdue:{f.id}:{int(f.scheduled_at.timestamp())}",
                f.owner_id,
                "followup_overdue",
                {"customer": name, "scheduled_at": _fmt(f.scheduled_at)},
            )
            for f, name in rows
        ]
    )
    result.more |= len(rows) == CHUNK

    # Complaints near their SLA, to the assignee.
    sla_key = _key("complaint.sla", Complaint.id, _epoch(Complaint.sla_due_at))
    stmt = (
        select(Complaint, Customer.name)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(
            Complaint.status.in_([ComplaintStatus.open, ComplaintStatus.in_progress]),
            Complaint.deleted_at.is_(None),
            Complaint.assignee_id.is_not(None),
            Complaint.sla_due_at <= now + sla_warn,
            Complaint.sla_due_at > now - LOOKBACK,
            _no_mail_yet(sla_key),
        )
        .limit(CHUNK)
    )
    rows = (await session.execute(stmt)).all()
    batches.append(
        [
            (
                f"complaint.sla:{c.id}:{int(c.sla_due_at.timestamp())}",
                c.assignee_id,
                "complaint_sla",
                {"customer": name, "sla_due_at": _fmt(c.sla_due_at)},
            )
            for c, name in rows
        ]
    )
    result.more |= len(rows) == CHUNK

    # Contracts expiring: one mail at 30, 7 and 1 days before the end (the nearest threshold).
    stmt = (
        select(Contract, Customer.name)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(
            Contract.status == ContractStatus.active,
            Contract.deleted_at.is_(None),
            Contract.owner_id.is_not(None),
            Contract.ends_on >= today,
            Contract.ends_on <= today + timedelta(days=max(CONTRACT_THRESHOLDS)),
        )
        .order_by(Contract.ends_on, Contract.id)
    )
    contract_rows: list[Event] = []
    for c, name in (await session.execute(stmt)).all():
        left = (c.ends_on - today).days
        days = min(t for t in CONTRACT_THRESHOLDS if left <= t)
        contract_rows.append(
            (
                f"contract.expiring:{c.id}:{days}",
                c.owner_id,
                "contract_expiring",
                {
                    "contract": c.name,
                    "number": c.number,
                    "customer": name,
                    "ends_on": _fmt(c.ends_on),
                    "days": days,
                },
            )
        )
    known = (
        set(
            (
                await session.execute(
                    select(MailOutbox.event_key).where(
                        MailOutbox.event_key.in_([r[0] for r in contract_rows])
                    )
                )
            ).scalars()
        )
        if contract_rows
        else set()
    )
    fresh = [r for r in contract_rows if r[0] not in known]
    result.more |= len(fresh) > CHUNK
    batches.append(fresh[:CHUNK])

    # Deliveries due (not yet delivered), to the contract's owner.
    del_key = _key("delivery.due", ContractDelivery.id, ContractDelivery.due_on)
    stmt = (
        select(ContractDelivery, Contract)
        .join(Contract, Contract.id == ContractDelivery.contract_id)
        .where(
            ContractDelivery.delivered_on.is_(None),
            ContractDelivery.acceptance_status == AcceptanceStatus.pending,
            ContractDelivery.deleted_at.is_(None),
            Contract.deleted_at.is_(None),
            Contract.owner_id.is_not(None),
            ContractDelivery.due_on <= today + timedelta(days=delivery_days),
            ContractDelivery.due_on >= today - timedelta(days=LOOKBACK.days),
            _no_mail_yet(del_key),
        )
        .limit(CHUNK)
    )
    rows = (await session.execute(stmt)).all()
    batches.append(
        [
            (
                f"delivery.due:{d.id}:{d.due_on.isoformat()}",
                c.owner_id,
                "delivery_due",
                {"contract": c.name, "content": d.content[:300], "due_on": _fmt(d.due_on)},
            )
            for d, c in rows
        ]
    )
    result.more |= len(rows) == CHUNK
    for batch in batches:
        result.queued += await _queue(session, tenant, locale, batch)
    return result
