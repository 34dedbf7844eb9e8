"""Sending surveys: a send per event, its invitation (with the signed link) and one reminder.

Where a send comes from, and in which transaction:

* a service ticket becomes *resolved*, a complaint *closed*: ``on_ticket_resolved`` /
  ``on_complaint_closed``, called by those services in the transaction that changes the status;
* the tenant's schedule (``scan``, run per tenant by the ``surveys.scan_tenant`` actor): one send
  per customer and period of the active periodic template;
* ``sendSurvey`` (``send_manual``), bounded.

Each is one ``survey_sends`` row, inserted with ``ON CONFLICT (template_id, source_key) DO
NOTHING``: an event sends once, however often it happens or its message is delivered. Minting the
link needs the tenant's data key, which the ticket and complaint services do not hold, so their
sends are written ``queued`` with a durable outbox message to ``surveys.issue_invitation``; the
worker mints the token, stores its hash and queues the invitation mail (``mail_outbox``, event key
``survey.invite:<send>``) in one transaction. Callers that hold the key (the schedule, the manual
mutation) issue in their own transaction. Either way a crash loses nothing and doubles nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.complaints.models import Complaint
from crm_core.contacts.models import Contact
from crm_core.customers.models import Customer
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.mail.outbox import queue_mail
from crm_core.messaging.outbox import defer
from crm_core.security.tenant_keys import TenantCipher
from crm_core.settings import SurveySettings
from crm_core.surveys import links
from crm_core.surveys.models import (
    SurveySend,
    SurveySendStatus,
    SurveySourceKind,
    SurveyTemplate,
    SurveyTrigger,
)
from crm_core.surveys.repository import active_for
from crm_core.tenancy import TenantRef
from crm_core.tenants.repository import settings_of
from crm_core.tickets.models import ServiceTicket

QUEUE = "surveys"
ISSUE_INVITATION = "surveys.issue_invitation"
SCAN_TENANT = "surveys.scan_tenant"
CHUNK = 200  # sends (or reminders) per scan transaction
INVITATION = "survey_invitation"
REMINDER = "survey_reminder"


def _now() -> datetime:
    return datetime.now(UTC)


def _first_email(emails: Sequence[Any] | None) -> str | None:
    for item in emails or []:
        if isinstance(item, dict) and item.get("address"):
            return str(item["address"])
    return None


async def recipient(
    session: AsyncSession, customer: Customer, contact_id: uuid.UUID | None
) -> tuple[uuid.UUID | None, str | None]:
    """Whom to ask: the event's contact if it has an address, else the customer's primary (then
    any) live contact with one, else the customer's own address."""
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is not None and contact.deleted_at is None:
            address = _first_email(contact.emails)
            if address:
                return contact.id, address
    rows = await session.execute(
        select(Contact)
        .where(
            Contact.customer_id == customer.id,
            Contact.deleted_at.is_(None),
            func.jsonb_array_length(Contact.emails) > 0,
        )
        .order_by(Contact.is_primary.desc(), Contact.created_at, Contact.id)
        .limit(1)
    )
    contact = rows.scalars().first()
    if contact is not None and (address := _first_email(contact.emails)):
        return contact.id, address
    return None, customer.email


@dataclass(frozen=True, slots=True)
class Source:
    kind: SurveySourceKind
    key: str
    ticket_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None


async def create_send(
    session: AsyncSession,
    tenant: TenantRef,
    template: SurveyTemplate,
    customer: Customer,
    source: Source,
    *,
    survey_settings: SurveySettings,
    cipher: TenantCipher | None = None,
    requested_by: uuid.UUID | None = None,
    now: datetime | None = None,
) -> SurveySend | None:
    """The send for one event, in the caller's transaction; None when the event already has one."""
    contact_id, address = await recipient(session, customer, source.contact_id)
    send_id = uuid.uuid4()
    stmt = (
        insert(SurveySend)
        .values(
            id=send_id,
            template_id=template.id,
            customer_id=customer.id,
            contact_id=contact_id,
            email=address,
            locale=template.language.value,
            trigger=template.trigger,
            source_kind=source.kind,
            source_key=source.key,
            ticket_id=source.ticket_id,
            complaint_id=source.complaint_id,
            status=SurveySendStatus.queued if address else SurveySendStatus.failed,
            error=None if address else "no e-mail address for this customer",
            requested_by=requested_by,
        )
        .on_conflict_do_nothing(index_elements=["template_id", "source_key"])
        .returning(SurveySend.id)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return None
    send = await session.get(SurveySend, send_id)
    assert send is not None
    if address:
        if cipher is not None:
            await issue(session, tenant, cipher, send, template, survey_settings, now=now)
        else:
            defer(session, ISSUE_INVITATION, QUEUE, send_id=send_id)
    return send


def _mail_context(
    send: SurveySend, template: SurveyTemplate, name: str, link: str
) -> dict[str, Any]:
    assert send.expires_at is not None
    return {
        "name": name,
        "survey": template.name,
        "intro": template.intro or "",
        "link": link,
        "expires_on": send.expires_at.astimezone(UTC).strftime("%Y-%m-%d"),
        "questions": len(template.questions),
    }


async def _greeting(session: AsyncSession, send: SurveySend) -> str:
    if send.contact_id is not None:
        contact = await session.get(Contact, send.contact_id)
        if contact is not None:
            return contact.name
    customer = await session.get(Customer, send.customer_id)
    return customer.name if customer is not None else ""


async def issue(
    session: AsyncSession,
    tenant: TenantRef,
    cipher: TenantCipher,
    send: SurveySend,
    template: SurveyTemplate,
    survey_settings: SurveySettings,
    *,
    now: datetime | None = None,
) -> bool:
    """queued → sent: mint the link, keep its hash, queue the invitation mail (one per send)."""
    if send.status is not SurveySendStatus.queued or not send.email:
        return False
    now = now or _now()
    expires_at = (now + timedelta(days=survey_settings.link_ttl_days)).replace(microsecond=0)
    token = links.mint(cipher, send.id, expires_at)
    send.token_hash = links.token_hash(token)
    send.expires_at = expires_at
    send.sent_at = now
    send.status = SurveySendStatus.sent
    await session.flush()
    await queue_mail(
        session,
        tenant,
        event_key=f"survey.invite:{send.id}",
        to=send.email,
        template=INVITATION,
        context=_mail_context(
            send,
            template,
            await _greeting(session, send),
            links.link(survey_settings.public_url, token),
        ),
        locale=send.locale,
    )
    return True


async def issue_queued(
    session: AsyncSession,
    tenant: TenantRef,
    cipher: TenantCipher,
    send_id: uuid.UUID,
    survey_settings: SurveySettings,
) -> bool:
    """The ``surveys.issue_invitation`` actor's work; a no-op for a send already issued."""
    send = (
        await session.execute(select(SurveySend).where(SurveySend.id == send_id).with_for_update())
    ).scalar_one_or_none()
    if send is None or send.status is not SurveySendStatus.queued:
        return False
    template = await session.get(SurveyTemplate, send.template_id)
    if template is None or template.deleted_at is not None:
        send.status = SurveySendStatus.failed
        send.error = "the survey template was deleted before the invitation went out"
        return False
    return await issue(session, tenant, cipher, send, template, survey_settings)


# --- the events --------------------------------------------------------------------------------


async def _on_event(
    session: AsyncSession,
    tenant: TenantRef,
    trigger: SurveyTrigger,
    customer_id: uuid.UUID,
    source: Source,
    survey_settings: SurveySettings,
) -> SurveySend | None:
    template = await active_for(session, trigger)
    if template is None:
        return None
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        return None
    return await create_send(
        session, tenant, template, customer, source, survey_settings=survey_settings
    )


async def on_ticket_resolved(
    session: AsyncSession,
    tenant: TenantRef,
    ticket: ServiceTicket,
    survey_settings: SurveySettings | None = None,
) -> SurveySend | None:
    """A ticket became resolved: one send per ticket (reopened and resolved again: still one)."""
    source = Source(
        SurveySourceKind.ticket,
        f"ticket:{ticket.id}",
        ticket_id=ticket.id,
        contact_id=ticket.contact_id,
    )
    return await _on_event(
        session,
        tenant,
        SurveyTrigger.ticket_resolved,
        ticket.customer_id,
        source,
        survey_settings or SurveySettings(),
    )


async def on_complaint_closed(
    session: AsyncSession,
    tenant: TenantRef,
    complaint: Complaint,
    survey_settings: SurveySettings | None = None,
) -> SurveySend | None:
    source = Source(
        SurveySourceKind.complaint,
        f"complaint:{complaint.id}",
        complaint_id=complaint.id,
        contact_id=complaint.contact_id,
    )
    return await _on_event(
        session,
        tenant,
        SurveyTrigger.complaint_closed,
        complaint.customer_id,
        source,
        survey_settings or SurveySettings(),
    )


# --- manual ------------------------------------------------------------------------------------


@dataclass
class ManualResult:
    sends: list[SurveySend]
    skipped: list[uuid.UUID]  # already asked today (this template)


async def send_manual(
    session: AsyncSession,
    principal: Principal,
    cipher: TenantCipher,
    template_id: uuid.UUID,
    customer_ids: Sequence[uuid.UUID],
    survey_settings: SurveySettings,
    *,
    now: datetime | None = None,
) -> ManualResult:
    """Ask the given customers (within the caller's data scope), all or nothing. A customer asked
    with the same template the same day is skipped (a double click is not a second mail)."""
    from crm_core.customers import repository as customers_repo

    now = now or _now()
    limit = survey_settings.max_manual_customers
    errors: list[FieldError] = []
    if not customer_ids:
        errors.append(FieldError("customer_ids", ErrorCode.REQUIRED, "at least one customer"))
    if len(customer_ids) > limit:
        errors.append(
            FieldError("customer_ids", ErrorCode.LIMIT_EXCEEDED, f"at most {limit} per call")
        )
    if errors:
        raise DomainError(errors)
    template = await session.get(SurveyTemplate, template_id)
    if template is None or template.deleted_at is not None:
        raise NotFound("template_id", "survey template")
    if not template.active:
        raise DomainError.one("template_id", ErrorCode.INVALID, "the template is not active")
    unique_ids = list(dict.fromkeys(customer_ids))
    found = {
        c.id: c
        for c in await customers_repo.get_many(session, unique_ids, scope=principal.data_scope)
    }
    missing = [
        FieldError(f"customer_ids.{i}", ErrorCode.NOT_FOUND, "customer not found")
        for i, cid in enumerate(customer_ids)
        if cid not in found
    ]
    if missing:
        raise DomainError(missing)
    result = ManualResult([], [])
    day = now.astimezone(UTC).strftime("%Y%m%d")
    for cid in unique_ids:
        send = await create_send(
            session,
            principal.tenant,
            template,
            found[cid],
            Source(SurveySourceKind.manual, f"manual:{cid}:{day}"),
            survey_settings=survey_settings,
            cipher=cipher,
            requested_by=principal.user_id,
            now=now,
        )
        if send is None:
            result.skipped.append(cid)
        else:
            result.sends.append(send)
    return result


# --- the schedule ------------------------------------------------------------------------------


@dataclass
class ScanResult:
    expired: int = 0
    reminded: int = 0
    periodic: int = 0
    more: bool = False


def reminder_days(tenant_settings: dict[str, Any], survey_settings: SurveySettings) -> int:
    own = tenant_settings.get("surveys")
    value = own.get("reminder_after_days") if isinstance(own, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 60:
        return value
    return survey_settings.reminder_after_days


def period_of(now: datetime, period_days: int) -> int:
    """Periods of ``period_days`` counted from the epoch: every scan agrees on the boundaries."""
    return int(now.timestamp() // 86_400) // period_days


async def _expire(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        update(SurveySend)
        .where(SurveySend.status == SurveySendStatus.sent, SurveySend.expires_at <= now)
        .values(status=SurveySendStatus.expired, updated_at=now)
        .returning(SurveySend.id)
    )
    return len(result.all())


async def _remind(
    session: AsyncSession,
    tenant: TenantRef,
    cipher: TenantCipher,
    survey_settings: SurveySettings,
    days: int,
    now: datetime,
) -> tuple[int, bool]:
    rows = (
        (
            await session.execute(
                select(SurveySend)
                .where(
                    SurveySend.status == SurveySendStatus.sent,
                    SurveySend.reminded_at.is_(None),
                    SurveySend.sent_at <= now - timedelta(days=days),
                    SurveySend.expires_at > now,
                )
                .order_by(SurveySend.sent_at, SurveySend.id)
                .limit(CHUNK)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    reminded = 0
    for send in rows:
        send.reminded_at = now
        assert send.expires_at is not None
        assert send.email is not None
        token = links.mint(cipher, send.id, send.expires_at)
        if send.token_hash != links.token_hash(token):
            continue  # not the link we sent (another key or a re-issued link): no reminder
        template = await session.get(SurveyTemplate, send.template_id)
        if template is None:
            continue
        if await queue_mail(
            session,
            tenant,
            event_key=f"survey.remind:{send.id}",
            to=send.email,
            template=REMINDER,
            context=_mail_context(
                send,
                template,
                await _greeting(session, send),
                links.link(survey_settings.public_url, token),
            ),
            locale=send.locale,
        ):
            reminded += 1
    return reminded, len(rows) == CHUNK


async def _periodic(
    session: AsyncSession,
    tenant: TenantRef,
    cipher: TenantCipher,
    survey_settings: SurveySettings,
    now: datetime,
) -> tuple[int, bool]:
    template = await active_for(session, SurveyTrigger.periodic)
    if template is None or template.period_days is None:
        return 0, False
    period = period_of(now, template.period_days)
    key = literal("periodic:") + cast(Customer.id, String) + f":{period}"
    reachable = or_(
        Customer.email.is_not(None),
        exists().where(
            Contact.customer_id == Customer.id,
            Contact.deleted_at.is_(None),
            func.jsonb_array_length(Contact.emails) > 0,
        ),
    )
    customers = (
        (
            await session.execute(
                select(Customer)
                .where(
                    Customer.deleted_at.is_(None),
                    reachable,
                    ~exists().where(
                        SurveySend.template_id == template.id, SurveySend.source_key == key
                    ),
                )
                .order_by(Customer.id)
                .limit(CHUNK)
            )
        )
        .scalars()
        .all()
    )
    created = 0
    for customer in customers:
        source = Source(SurveySourceKind.periodic, f"periodic:{customer.id}:{period}")
        if await create_send(
            session,
            tenant,
            template,
            customer,
            source,
            survey_settings=survey_settings,
            cipher=cipher,
            now=now,
        ):
            created += 1
    return created, len(customers) == CHUNK


async def scan(
    session: AsyncSession,
    tenant: TenantRef,
    cipher: TenantCipher,
    survey_settings: SurveySettings,
    *,
    now: datetime | None = None,
) -> ScanResult:
    """One round of the tenant's schedule: expire spent links, remind non-responders once, and
    send this period's periodic survey. Chunked; ``more`` asks for another round."""
    now = now or _now()
    result = ScanResult()
    result.expired = await _expire(session, now)
    days = reminder_days(await settings_of(session, tenant.id), survey_settings)
    result.reminded, more_reminders = await _remind(
        session, tenant, cipher, survey_settings, days, now
    )
    result.periodic, more_periodic = await _periodic(session, tenant, cipher, survey_settings, now)
    result.more = more_reminders or more_periodic
    return result
