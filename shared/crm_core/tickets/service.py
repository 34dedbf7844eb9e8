"""Service-ticket use cases: always on a live customer of the tenant, visible to the writer; the
status follows the workflow in ``models.TRANSITIONS``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contacts.service import check_at_customer
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.surveys import sending as survey_sending
from crm_core.tickets import repository
from crm_core.tickets.models import (
    SETTLED,
    TRANSITIONS,
    ServiceTicket,
    TicketPriority,
    TicketStatus,
)
from crm_core.tickets.schemas import TicketFields
from crm_core.validation import parse
from crm_core.workflow import apply_status, settlement_errors

WHAT = "service_ticket"
NOT_NULL = ("problem", "priority", "status", "requested_at")
TEXTS = ("problem", "expectation", "measures", "result")
STATE = ("status", "assignee_id", "requested_at", "handled_at", "resolved_at", "satisfaction")


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(TicketFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("product") is not None:
        fields["product"] = normalize.clean_text(fields["product"])
    for name in TEXTS:
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    return fields


def _search_text(t: ServiceTicket) -> str:
    # Bounded: the trigram index need not hold whole reports.
    return normalize.search_text(t.product, (t.problem or "")[:2000], (t.result or "")[:500])


def _refresh_search(record: ServiceTicket) -> None:
    record.search_text = _search_text(record)


def _check_state(state: Mapping[str, Any]) -> None:
    """The rules between the timestamps, the status, the assignee and the rating, all at once."""
    errors = settlement_errors(state, SETTLED, "requested_at")
    if state["status"] is not TicketStatus.new and state["assignee_id"] is None:
        errors.append(
            FieldError("assignee_id", ErrorCode.REQUIRED, "required once the ticket is assigned")
        )
    if errors:
        raise DomainError(errors)


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> ServiceTicket:
    fields = _fields(data)
    if not fields.get("problem"):
        raise DomainError.one("problem", ErrorCode.REQUIRED, "required")
    if fields.get("status") not in (None, TicketStatus.new):
        raise DomainError.one("status", ErrorCode.INVALID, "a ticket starts new")
    fields["status"] = TicketStatus.new
    if fields.get("priority") is None:
        fields["priority"] = TicketPriority.normal
    if fields.get("requested_at") is None:
        fields["requested_at"] = datetime.now(UTC)
    _check_state({name: fields.get(name) for name in STATE})
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    # Unassigned is allowed while the ticket is new: the service desk dispatches it.
    if fields.get("assignee_id") is not None:
        await records.check_member(session, principal, fields["assignee_id"], "assignee_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, customer_id, fields["contact_id"])
    ticket = ServiceTicket(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(ticket)
    session.add(ticket)
    await session.flush()
    audit.record(session, principal, "create", WHAT, ticket.id, audit.snapshot(ticket))
    return ticket


async def update(
    session: AsyncSession,
    principal: Principal,
    ticket_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> ServiceTicket:
    """The customer does not change: moving records between customers is a merge's work.
    The rules are checked on the record as it will be (stored values with the changes)."""
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    ticket = await records.get_for_write(
        session, ServiceTicket, ticket_id, expected_version, WHAT, visible=_visible(principal)
    )
    apply_status(
        fields, ticket.status, TRANSITIONS, settled=SETTLED, resolved=TicketStatus.resolved
    )
    _check_state({name: fields.get(name, getattr(ticket, name)) for name in STATE})
    if fields.get("assignee_id") is not None:
        await records.check_member(session, principal, fields["assignee_id"], "assignee_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, ticket.customer_id, fields["contact_id"])
    was_resolved = ticket.status is TicketStatus.resolved
    updated = await records.apply_update(
        session, principal, ticket, fields, WHAT, refresh=_refresh_search
    )
    if updated.status is TicketStatus.resolved and not was_resolved:
        # The satisfaction survey of the active ticket_resolved template, in this transaction;
        # once per ticket however often it is resolved (crm_core.surveys.sending).
        await survey_sending.on_ticket_resolved(session, principal.tenant, updated)
    return updated


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(ServiceTicket, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
# restore: Only under a live, visible customer: ``visible`` requires both.
restore = _lifecycle.restore
destroy = _lifecycle.destroy
