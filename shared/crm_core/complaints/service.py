"""Complaint use cases: always on a live customer of the tenant, visible to the writer; the status
follows the workflow in ``models.TRANSITIONS``; the SLA due time defaults from the severity."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.complaints import repository
from crm_core.complaints.models import (
    SETTLED,
    TRANSITIONS,
    Complaint,
    ComplaintSeverity,
    ComplaintStatus,
)
from crm_core.complaints.schemas import ComplaintFields
from crm_core.contacts.service import check_at_customer
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.mail import events as mail_events
from crm_core.surveys import sending as survey_sending
from crm_core.tenants.repository import settings_of
from crm_core.validation import parse
from crm_core.workflow import apply_status, settlement_errors

WHAT = "complaint"
REQUIRED = ("kind", "description")
NOT_NULL = (*REQUIRED, "severity", "status", "received_at", "sla_due_at")
TEXTS = ("description", "customer_expectation", "measures", "resolution")
STATE = ("status", "received_at", "sla_due_at", "handled_at", "resolved_at", "satisfaction")

# Hours from receipt to the SLA due time, by severity. A tenant overrides any of them in
# ``settings["complaint_sla_hours"]`` ({"critical": 2, …}); these are the product defaults.
SLA_SETTING = "complaint_sla_hours"
DEFAULT_SLA_HOURS: dict[ComplaintSeverity, float] = {
    ComplaintSeverity.critical: 4,
    ComplaintSeverity.high: 24,
    ComplaintSeverity.medium: 72,
    ComplaintSeverity.low: 7 * 24,
}


def sla_hours(tenant_settings: Mapping[str, Any]) -> dict[ComplaintSeverity, float]:
    """The product defaults with the tenant's overrides; a malformed override is ignored."""
    configured = tenant_settings.get(SLA_SETTING)
    hours = dict(DEFAULT_SLA_HOURS)
    if isinstance(configured, Mapping):
        for severity in ComplaintSeverity:
            value = configured.get(severity.value)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                hours[severity] = value
    return hours


async def _sla_due(
    session: AsyncSession, principal: Principal, severity: ComplaintSeverity, received: datetime
) -> datetime:
    hours = sla_hours(await settings_of(session, principal.tenant.id))
    return received + timedelta(hours=hours[severity])


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(ComplaintFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("product_or_service") is not None:
        fields["product_or_service"] = normalize.clean_text(fields["product_or_service"])
    for name in TEXTS:
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    return fields


def _search_text(c: Complaint) -> str:
    # Bounded: the trigram index need not hold whole reports.
    return normalize.search_text(
        c.product_or_service, (c.description or "")[:2000], (c.resolution or "")[:500]
    )


def _refresh_search(record: Complaint) -> None:
    record.search_text = _search_text(record)


def _check_state(state: Mapping[str, Any]) -> None:
    """The rules between the timestamps, the status and the rating, all reported at once."""
    errors = settlement_errors(state, SETTLED, "received_at")
    if state["sla_due_at"] < state["received_at"]:
        errors.append(FieldError("sla_due_at", ErrorCode.INVALID, "must not be before received_at"))
    if errors:
        raise DomainError(errors)


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> Complaint:
    fields = _fields(data)
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in REQUIRED if not fields.get(f)]
    if missing:
        raise DomainError(missing)
    if fields.get("status") not in (None, ComplaintStatus.open):
        raise DomainError.one("status", ErrorCode.INVALID, "a complaint starts open")
    fields["status"] = ComplaintStatus.open
    if fields.get("severity") is None:
        fields["severity"] = ComplaintSeverity.medium
    if fields.get("received_at") is None:
        fields["received_at"] = datetime.now(UTC)
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    if fields.get("sla_due_at") is None:
        fields["sla_due_at"] = await _sla_due(
            session, principal, fields["severity"], fields["received_at"]
        )
    _check_state({name: fields.get(name) for name in STATE})
    # Unassigned is allowed: the service desk picks it up.
    if fields.get("assignee_id") is not None:
        await records.check_member(session, principal, fields["assignee_id"], "assignee_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, customer_id, fields["contact_id"])
    complaint = Complaint(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(complaint)
    session.add(complaint)
    await session.flush()
    audit.record(session, principal, "create", WHAT, complaint.id, audit.snapshot(complaint))
    await mail_events.complaint_assigned(session, principal.tenant, complaint)
    return complaint


async def update(
    session: AsyncSession,
    principal: Principal,
    complaint_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Complaint:
    """The customer does not change: moving records between customers is a merge's work.
    A new severity or receipt time moves the SLA due time unless one is given with it.
    The rules are checked on the record as it will be (stored values with the changes)."""
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    complaint = await records.get_for_write(
        session, Complaint, complaint_id, expected_version, WHAT, visible=_visible(principal)
    )
    apply_status(
        fields, complaint.status, TRANSITIONS, settled=SETTLED, resolved=ComplaintStatus.resolved
    )
    if ("severity" in fields or "received_at" in fields) and "sla_due_at" not in fields:
        fields["sla_due_at"] = await _sla_due(
            session,
            principal,
            fields.get("severity", complaint.severity),
            fields.get("received_at", complaint.received_at),
        )
    _check_state({name: fields.get(name, getattr(complaint, name)) for name in STATE})
    if fields.get("assignee_id") is not None:
        await records.check_member(session, principal, fields["assignee_id"], "assignee_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, complaint.customer_id, fields["contact_id"])
    previous_assignee = complaint.assignee_id
    previous_status = complaint.status
    updated = await records.apply_update(
        session, principal, complaint, fields, WHAT, refresh=_refresh_search
    )
    if updated.assignee_id is not None and updated.assignee_id != previous_assignee:
        await mail_events.complaint_assigned(session, principal.tenant, updated)
    if updated.status is ComplaintStatus.closed and previous_status is not ComplaintStatus.closed:
        # The satisfaction survey of the active complaint_closed template, in this transaction.
        await survey_sending.on_complaint_closed(session, principal.tenant, updated)
    return updated


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(Complaint, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
# restore: Only under a live, visible customer: ``visible`` requires both.
restore = _lifecycle.restore
destroy = _lifecycle.destroy
