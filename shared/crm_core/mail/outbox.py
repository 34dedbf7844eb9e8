"""Queueing mail: a ``mail_outbox`` row in the caller's transaction, one per event.

``queue_mail`` inserts with ``ON CONFLICT (event_key) DO NOTHING``: the same event queued twice
(a retried job, two scans racing, a duplicate message) gives one row and so one mail. The sender's
message is written to the durable outbox in the same transaction; from a tenant-bound session it
also goes out right after commit, from a control-plane session (password reset) the relay sends it
within seconds.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.errors import DomainError, ErrorCode
from crm_core.mail.models import MailOutbox, MailStatus, MailSuppression, SuppressionReason
from crm_core.mail.render import TEMPLATES, locale_of
from crm_core.messaging.models import OutboxMessage
from crm_core.messaging.outbox import defer
from crm_core.tenancy import TenantRef

QUEUE = "mail"
SEND_MAIL = "mail.send_mail"
MAX_EVENT_KEY = 200


def message_id_local(tenant: TenantRef, event_key: str) -> str:
    """The left part of the mail's Message-ID: the same for every (re)send of one event's mail."""
    return hashlib.sha256(f"{tenant.id}:{event_key}".encode()).hexdigest()[:40]


def normalize_address(address: str, field: str = "to") -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except (EmailNotValidError, AttributeError):
        raise DomainError.one(field, ErrorCode.INVALID, "not a valid e-mail address") from None


def _map(tenant: TenantRef) -> dict[str, Any]:
    # Explicit per statement, so a control-plane session (password reset) writes the tenant's rows
    # in its own transaction; on a tenant-bound session it is the map it already has.
    return {"schema_translate_map": {None: tenant.schema}}


async def queue_mail(
    session: AsyncSession,
    tenant: TenantRef,
    *,
    event_key: str,
    to: str,
    template: str,
    context: Mapping[str, Any],
    locale: str,
    transactional: bool = False,
) -> uuid.UUID | None:
    """Queue one mail for one event; returns its id, or None if the event already has its mail."""
    if not 1 <= len(event_key) <= MAX_EVENT_KEY:
        raise DomainError.one("event_key", ErrorCode.INVALID, f"1 to {MAX_EVENT_KEY} characters")
    if template not in TEMPLATES:
        raise DomainError.one("template", ErrorCode.INVALID, f"no mail template {template!r}")
    address = normalize_address(to)
    mail_id = uuid.uuid4()
    stmt = (
        insert(MailOutbox)
        .values(
            id=mail_id,
            event_key=event_key,
            to_address=address,
            template=template,
            locale=locale_of(locale),
            context=dict(context),
            transactional=transactional,
            message_id=message_id_local(tenant, event_key),
            status=MailStatus.queued,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(MailOutbox.id)
    )
    created = (await session.execute(stmt, execution_options=_map(tenant))).scalar_one_or_none()
    if created is None:
        return None
    bound = session.info.get("tenant")
    if bound is not None and bound.id == tenant.id:
        defer(session, SEND_MAIL, QUEUE, mail_id=created)
    else:
        await session.execute(
            insert(OutboxMessage).values(
                actor_name=SEND_MAIL,
                queue_name=QUEUE,
                kwargs={"tenant_id": str(tenant.id), "mail_id": str(created)},
                send_attempts=0,
            ),
            execution_options=_map(tenant),
        )
    return created


async def suppress(
    session: AsyncSession, address: str, reason: SuppressionReason, detail: str | None = None
) -> None:
    """Record an opt-out or a bounce for the session's tenant (bounces are counted)."""
    stmt = insert(MailSuppression).values(
        id=uuid.uuid4(),
        address=normalize_address(address, "address"),
        reason=reason,
        detail=detail,
        bounces=1 if reason is SuppressionReason.bounce else 0,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["address", "reason"],
        set_={
            "detail": stmt.excluded.detail,
            "bounces": MailSuppression.bounces + stmt.excluded.bounces,
            "updated_at": func.now(),
        },
    )
    await session.execute(stmt)


async def opt_in(session: AsyncSession, address: str) -> None:
    await session.execute(
        delete(MailSuppression).where(
            MailSuppression.address == normalize_address(address, "address"),
            MailSuppression.reason == SuppressionReason.opt_out,
        )
    )


async def unsuppress(
    session: AsyncSession, address: str, reasons: tuple[SuppressionReason, ...]
) -> int:
    """Lift suppressions of the session's tenant (an admin clearing an opt-out or a bounce)."""
    result = await session.execute(
        delete(MailSuppression)
        .where(
            MailSuppression.address == normalize_address(address, "address"),
            MailSuppression.reason.in_(reasons),
        )
        .returning(MailSuppression.id)
    )
    return len(result.all())


async def list_suppressions(
    session: AsyncSession,
    *,
    reason: SuppressionReason | None = None,
    address: str | None = None,
    limit: int = 100,
) -> list[MailSuppression]:
    """The session's tenant's suppressions, newest change first (bounded)."""
    stmt = select(MailSuppression)
    if reason is not None:
        stmt = stmt.where(MailSuppression.reason == reason)
    if address:
        stmt = stmt.where(
            MailSuppression.address.contains(address.strip().lower(), autoescape=True)
        )
    stmt = stmt.order_by(MailSuppression.updated_at.desc(), MailSuppression.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def suppression_of(session: AsyncSession, address: str) -> set[SuppressionReason]:
    rows = await session.execute(
        select(MailSuppression.reason).where(MailSuppression.address == address)
    )
    return set(rows.scalars())
