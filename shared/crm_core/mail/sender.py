"""Delivering one queued mail through SMTP (aiosmtplib), with the outbox row as the record.

The walk of a row: ``queued`` →(claim, committed)→ ``sending`` →(SMTP accepts)→ ``sent``.

Exactly once is not on offer from SMTP: the server may accept a message and the sender die before
it records that. What we guarantee is:

* one row per event (``event_key`` unique), so an event never causes two different mails;
* every (re)send of that row carries the same ``Message-ID`` (from the tenant and the event key),
  so receiving systems and people can recognise a repeat;
* a second SMTP transaction happens only if the sender died (or lost the database) inside the
  window between the server's ``250`` and the ``sent`` commit, a few milliseconds: the scheduler
  finds the row ``sending`` after ``CRM_MAIL__SENDING_STALE_SECONDS`` and sends it again.

Permanent refusals (5xx) are bounces: the row ends ``bounced`` and the address is suppressed, so
no further mail goes to it. Opted-out addresses get no notifications (transactional mails, such as
a password reset, still go). Temporary failures are retried with backoff, then ``failed``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import aiosmtplib
from sqlalchemy import and_, or_, select, update

from crm_core.db.engine import TenantDatabase
from crm_core.mail.models import MailOutbox, MailStatus, SuppressionReason
from crm_core.mail.outbox import QUEUE, SEND_MAIL, suppress, suppression_of
from crm_core.mail.render import render
from crm_core.mail.unsubscribe import Signer
from crm_core.messaging.outbox import Dispatcher, defer, unit_of_work
from crm_core.settings import MailSettings, SmtpSecurity
from crm_core.tenants.models import Tenant

log = logging.getLogger("crm.mail")
MARKER = "MAIL-SENT"  # one log line per mail handed to the SMTP server


def _now() -> datetime:
    return datetime.now(UTC)


async def brand_of(tdb: TenantDatabase, settings: MailSettings) -> dict[str, Any]:
    """Sender and branding: the tenant's ``settings.mail`` over the product defaults."""
    async with tdb.read() as session:
        row = (
            await session.execute(
                select(Tenant.name, Tenant.settings).where(Tenant.id == tdb.tenant.id)
            )
        ).one()
    own = row.settings.get("mail") if isinstance(row.settings, dict) else None
    own = own if isinstance(own, dict) else {}
    return {
        "name": str(own.get("brand_name") or row.name),
        "color": str(own.get("brand_color") or "#1677ff"),
        "footer": str(own.get("footer") or ""),
        "from_address": str(own.get("from_address") or settings.from_address),
        "from_name": str(own.get("from_name") or row.name or settings.from_name),
        "reply_to": own.get("reply_to"),
    }


def build_message(
    row: MailOutbox,
    brand: dict[str, Any],
    settings: MailSettings,
    *,
    unsubscribe: str | None = None,
) -> EmailMessage:
    """``unsubscribe``: the notification's opt-out link (footer and RFC 8058 headers); never on a
    transactional mail."""
    if row.transactional:
        unsubscribe = None
    rendered = render(row.template, row.locale, dict(row.context), brand, unsubscribe=unsubscribe)
    sender = brand["from_address"]
    domain = settings.message_id_domain or sender.rpartition("@")[2] or "crm.localhost"
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = formataddr((brand["from_name"], sender))
    msg["To"] = row.to_address
    if brand.get("reply_to"):
        msg["Reply-To"] = str(brand["reply_to"])
    msg["Message-ID"] = f"<{row.message_id}@{domain}>"
    msg["Date"] = format_datetime(row.created_at or _now())
    msg["X-CRM-Event"] = row.event_key
    if not row.transactional:
        msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        # RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe (a POST to the link).
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


async def claim(tdb: TenantDatabase, mail_id: uuid.UUID) -> MailOutbox | None:
    """queued → sending, committed before any SMTP traffic; None if not ours to send."""
    async with tdb.transaction() as session:
        stmt = (
            update(MailOutbox)
            .where(MailOutbox.id == mail_id, MailOutbox.status == MailStatus.queued)
            .values(
                status=MailStatus.sending,
                sending_at=_now(),
                attempts=MailOutbox.attempts + 1,
            )
            .returning(MailOutbox)
        )
        return (await session.execute(stmt)).scalar_one_or_none()


async def _settle(
    tdb: TenantDatabase,
    dispatcher: Dispatcher,
    mail_id: uuid.UUID,
    status: MailStatus,
    *,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    async with unit_of_work(tdb, dispatcher) as session:
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status is MailStatus.sent:
            values["sent_at"] = _now()
        result = await session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == mail_id, MailOutbox.status == MailStatus.sending)
            .values(**values)
            .returning(MailOutbox.id)
        )
        if result.scalar_one_or_none() is not None and status is MailStatus.queued:
            defer(session, SEND_MAIL, QUEUE, deliver_at=retry_at, mail_id=mail_id)


async def smtp_send(message: EmailMessage, settings: MailSettings) -> None:
    await aiosmtplib.send(
        message,
        hostname=settings.host,
        port=settings.port,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
        use_tls=settings.security is SmtpSecurity.tls,
        start_tls=settings.security is SmtpSecurity.starttls,
        timeout=settings.timeout_seconds,
    )


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    code = getattr(exc, "code", None)
    return isinstance(code, int) and 500 <= code < 600


async def deliver(
    tdb: TenantDatabase,
    dispatcher: Dispatcher,
    settings: MailSettings,
    mail_id: uuid.UUID,
    *,
    signer: Signer | None = None,
) -> MailStatus | None:
    """Send one mail if it is ours to send; returns the status it ended in (None: not ours).

    ``signer`` makes the unsubscribe link of notifications (the worker always passes the
    tenant's); without one a notification goes out with no link."""
    row = await claim(tdb, mail_id)
    if row is None:
        return None
    async with tdb.read() as session:
        suppressed = await suppression_of(session, row.to_address)
    if SuppressionReason.bounce in suppressed or (
        SuppressionReason.opt_out in suppressed and not row.transactional
    ):
        reason = ", ".join(sorted(s.value for s in suppressed))
        await _settle(tdb, dispatcher, mail_id, MailStatus.suppressed, error=reason)
        return MailStatus.suppressed
    link = signer.link(row.to_address) if signer is not None and not row.transactional else None
    message = build_message(row, await brand_of(tdb, settings), settings, unsubscribe=link)
    try:
        await smtp_send(message, settings)
    except (aiosmtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if _permanent(exc):
            await _settle(tdb, dispatcher, mail_id, MailStatus.bounced, error=error)
            async with tdb.transaction() as session:
                await suppress(session, row.to_address, SuppressionReason.bounce, error)
            log.warning("mail %s bounced: %s", row.event_key, error)
            return MailStatus.bounced
        if row.attempts >= settings.max_attempts:
            await _settle(tdb, dispatcher, mail_id, MailStatus.failed, error=error)
            log.error("mail %s failed after %d attempts: %s", row.event_key, row.attempts, error)
            return MailStatus.failed
        delay = settings.retry_base_seconds * 2 ** (row.attempts - 1)
        retry_at = _now() + timedelta(seconds=delay)
        await _settle(tdb, dispatcher, mail_id, MailStatus.queued, error=error, retry_at=retry_at)
        log.warning("mail %s: %s; retry in %.0f s", row.event_key, error, delay)
        return MailStatus.queued
    # The window: the server has the mail; until this commit a crash means a resend (same id).
    await _settle(tdb, dispatcher, mail_id, MailStatus.sent)
    log.info(
        "%s to=%s subject=%r message_id=%s event=%s",
        MARKER,
        row.to_address,
        message["Subject"],
        message["Message-ID"],
        row.event_key,
    )
    return MailStatus.sent


async def sweep(
    tdb: TenantDatabase, *, sending_stale_seconds: float, requeue_queued_after_seconds: float
) -> int:
    """Mails stuck ``sending`` (the sender died in the window) or ``queued`` with no message in
    flight for long go back to the sender. Returns how many were re-sent."""
    now = _now()
    stale = now - timedelta(seconds=sending_stale_seconds)
    idle = now - timedelta(seconds=requeue_queued_after_seconds)
    async with tdb.transaction() as session:
        stmt = (
            update(MailOutbox)
            .where(
                or_(
                    and_(MailOutbox.status == MailStatus.sending, MailOutbox.sending_at < stale),
                    and_(
                        MailOutbox.status == MailStatus.queued,
                        MailOutbox.created_at < idle,
                        or_(MailOutbox.sending_at.is_(None), MailOutbox.sending_at < idle),
                    ),
                )
            )
            .values(status=MailStatus.queued, sending_at=now)
            .returning(MailOutbox.id)
        )
        ids = list((await session.execute(stmt)).scalars())
        for mail_id in ids:
            defer(session, SEND_MAIL, QUEUE, mail_id=mail_id)
    return len(ids)
