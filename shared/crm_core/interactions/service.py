"""Interaction use cases: always under a live customer of the tenant, visible to the writer."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contacts.service import check_at_customer
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.interactions import repository
from crm_core.interactions.models import Interaction
from crm_core.interactions.schemas import InteractionFields
from crm_core.tenants.repository import timezone_of
from crm_core.validation import parse

WHAT = "interaction"
REQUIRED = ("occurred_at", "channel")


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(InteractionFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("subject") is not None:
        fields["subject"] = normalize.clean_text(fields["subject"])
    for name in ("content", "result"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    return fields


def _search_text(i: Interaction) -> str:
    # Bounded: the trigram index need not hold a whole meeting's minutes.
    return normalize.search_text(i.subject, (i.content or "")[:2000], (i.result or "")[:500])


def _refresh_search(record: Interaction) -> None:
    record.search_text = _search_text(record)


async def _check_dates(
    session: AsyncSession, principal: Principal, occurred_at: datetime, next_on: date | None
) -> None:
    """The next contact is not before the day it happened, that day read in the company's zone
    (11 pm in Shanghai is already tomorrow in UTC)."""
    if next_on is None:
        return
    zone = ZoneInfo(await timezone_of(session, principal.tenant.id))
    if next_on < occurred_at.astimezone(zone).date():
        raise DomainError.one(
            "next_contact_on", ErrorCode.INVALID, "must not be before the date of occurred_at"
        )


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> Interaction:
    fields = _fields(data)
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in REQUIRED if not fields.get(f)]
    if missing:
        raise DomainError(missing)
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    # Whoever logs it made the contact, unless they name a colleague; an integration must name one.
    if fields.get("staff_user_id") is None:
        if principal.client_id is not None:
            raise DomainError.one("staff_user_id", ErrorCode.REQUIRED, "required")
        fields["staff_user_id"] = principal.user_id
    await records.check_member(session, principal, fields["staff_user_id"], "staff_user_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, customer_id, fields["contact_id"])
    await _check_dates(session, principal, fields["occurred_at"], fields.get("next_contact_on"))
    interaction = Interaction(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(interaction)
    session.add(interaction)
    await session.flush()
    audit.record(session, principal, "create", WHAT, interaction.id, audit.snapshot(interaction))
    return interaction


async def update(
    session: AsyncSession,
    principal: Principal,
    interaction_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Interaction:
    """The customer does not change: moving records between customers is a merge's work."""
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in (*REQUIRED, "staff_user_id")
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    interaction = await records.get_for_write(
        session, Interaction, interaction_id, expected_version, WHAT, visible=_visible(principal)
    )
    if "staff_user_id" in fields:
        await records.check_member(session, principal, fields["staff_user_id"], "staff_user_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, interaction.customer_id, fields["contact_id"])
    if "occurred_at" in fields or "next_contact_on" in fields:
        await _check_dates(
            session,
            principal,
            fields.get("occurred_at", interaction.occurred_at),
            fields.get("next_contact_on", interaction.next_contact_on),
        )
    return await records.apply_update(
        session, principal, interaction, fields, WHAT, refresh=_refresh_search
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(Interaction, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
# restore: Only under a live, visible customer: ``visible`` requires both.
restore = _lifecycle.restore
destroy = _lifecycle.destroy
