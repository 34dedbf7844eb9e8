"""Visit plan and visit record use cases: always on a live customer of the tenant, visible to the
writer; the visitor is a member inside the writer's data scope (a sales rep plans and reports
their own visits). A plan cannot fall inside the customer's "do not visit" windows; recording a
visit that carries out a plan marks the plan done in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contacts.service import check_at_customer
from crm_core.customers import repository as customers_repo
from crm_core.customers.models import Customer
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.mail import events as mail_events
from crm_core.tenants.models import Tenant
from crm_core.tenants.repository import timezone_of
from crm_core.validation import parse
from crm_core.visits import repository, rules
from crm_core.visits.models import TRANSITIONS, VisitPlan, VisitPlanStatus, VisitRecord
from crm_core.visits.schemas import VisitPlanFields, VisitRecordFields
from crm_core.workflow import check_transition

PLAN = "visit_plan"
RECORD = "visit_record"
PLAN_REQUIRED = ("planned_at", "purpose")
PLAN_NOT_NULL = (*PLAN_REQUIRED, "visitor_id", "status")
RECORD_REQUIRED = ("outcome",)
RECORD_NOT_NULL = (*RECORD_REQUIRED, "visited_at", "visitor_id", "expenses", "currency")
RECORD_TEXTS = ("content", "problems_solved", "watch_next_time")
T = TypeVar("T")
CENT = Decimal("0.01")


def _fields(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(model, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("purpose", "place"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    for name in ("notes", *RECORD_TEXTS):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    if fields.get("currency") is not None:
        fields["currency"] = fields["currency"].upper()
    if fields.get("expenses") is not None:
        fields["expenses"] = fields["expenses"].quantize(CENT)  # as stored: Numeric(14, 2)
    return fields


def _not_null(fields: Mapping[str, Any], names: tuple[str, ...]) -> None:
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in names
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)


def _required(fields: Mapping[str, Any], names: tuple[str, ...]) -> None:
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in names if not fields.get(f)]
    if missing:
        raise DomainError(missing)


async def _customer(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID
) -> Customer:
    customer = await customers_repo.get(session, customer_id, scope=principal.data_scope)
    if customer is None:
        raise NotFound("customer_id", "customer")
    return customer


async def _visitor(session: AsyncSession, principal: Principal, fields: dict[str, Any]) -> None:
    """Whoever writes it is the visitor unless they name a colleague; an integration must name
    one. The visitor stays inside the writer's data scope."""
    if "visitor_id" not in fields:
        if principal.client_id is not None:
            raise DomainError.one("visitor_id", ErrorCode.REQUIRED, "required")
        fields["visitor_id"] = principal.user_id
    await records.check_member(session, principal, fields["visitor_id"], "visitor_id")


# --- visit plans -------------------------------------------------------------------------------


def _plan_search(p: VisitPlan) -> str:
    return normalize.search_text(p.purpose, p.place, (p.notes or "")[:1000])


def _refresh_plan(p: VisitPlan) -> None:
    p.search_text = _plan_search(p)


async def _check_do_not_visit(
    session: AsyncSession, principal: Principal, customer: Customer, planned_at: datetime
) -> None:
    if not customer.do_not_visit:
        return
    zone = await timezone_of(session, principal.tenant.id)
    window = rules.blocking_window(customer.do_not_visit, planned_at, zone)
    if window is not None:
        raise DomainError.one(
            "planned_at",
            ErrorCode.INVALID,
            f"the customer asks not to be visited then: {rules.describe(window)}",
        )


async def create_plan(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> VisitPlan:
    fields = _fields(VisitPlanFields, data)
    _required(fields, PLAN_REQUIRED)
    _not_null(fields, PLAN_NOT_NULL)
    if fields.get("status") not in (None, VisitPlanStatus.planned):
        raise DomainError.one("status", ErrorCode.INVALID, "a visit plan starts planned")
    fields["status"] = VisitPlanStatus.planned
    customer = await _customer(session, principal, customer_id)
    await _visitor(session, principal, fields)
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, customer_id, fields["contact_id"])
    await _check_do_not_visit(session, principal, customer, fields["planned_at"])
    plan = VisitPlan(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_plan(plan)
    session.add(plan)
    await session.flush()
    audit.record(session, principal, "create", PLAN, plan.id, audit.snapshot(plan))
    await _mail_visitor(session, principal, plan)
    return plan


async def _mail_visitor(session: AsyncSession, principal: Principal, plan: VisitPlan) -> None:
    """The "visit planned" mail to the rep, in this transaction (``mail.events.visit_planned``:
    not when the rep planned it themselves)."""
    if plan.status is not VisitPlanStatus.planned or plan.deleted_at is not None:
        return
    await mail_events.visit_planned(
        session,
        principal.tenant,
        plan_id=plan.id,
        customer_id=plan.customer_id,
        visitor_id=plan.visitor_id,
        planned_at=plan.planned_at,
        purpose=plan.purpose,
        place=plan.place,
        actor_id=principal.user_id,
    )


async def update_plan(
    session: AsyncSession,
    principal: Principal,
    plan_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> VisitPlan:
    """The customer does not change. A new time is checked against the customer's windows while
    the plan is still to be done."""
    fields = _fields(VisitPlanFields, data)
    _not_null(fields, PLAN_NOT_NULL)
    plan = await records.get_for_write(
        session, VisitPlan, plan_id, expected_version, PLAN, visible=_plans_visible(principal)
    )
    if "status" in fields:
        check_transition(TRANSITIONS, plan.status, fields["status"])
    if "visitor_id" in fields:
        await records.check_member(session, principal, fields["visitor_id"], "visitor_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, plan.customer_id, fields["contact_id"])
    moved = "planned_at" in fields and fields["planned_at"] != plan.planned_at
    if moved and fields.get("status", plan.status) is VisitPlanStatus.planned:
        customer = await _customer(session, principal, plan.customer_id)
        await _check_do_not_visit(session, principal, customer, fields["planned_at"])
    before = (plan.visitor_id, plan.planned_at)
    updated = await records.apply_update(
        session, principal, plan, fields, PLAN, refresh=_refresh_plan
    )
    if (updated.visitor_id, updated.planned_at) != before:
        await _mail_visitor(session, principal, updated)  # reassigned or rescheduled
    return updated


def _plans_visible(principal: Principal) -> ColumnElement[bool]:
    return repository.plans.visible(principal.data_scope)


# --- visit records -----------------------------------------------------------------------------


def _record_search(r: VisitRecord) -> str:
    return normalize.search_text(
        (r.content or "")[:2000], (r.problems_solved or "")[:500], (r.watch_next_time or "")[:500]
    )


def _refresh_record(r: VisitRecord) -> None:
    r.search_text = _record_search(r)


async def _currency_of(session: AsyncSession, principal: Principal) -> str:
    """The company's currency (core.tenants), "CNY" when unset."""
    stmt = select(Tenant.currency).where(Tenant.id == principal.tenant.id)
    return (await session.execute(stmt)).scalar_one_or_none() or "CNY"


async def _check_next_visit(
    session: AsyncSession, principal: Principal, state: Mapping[str, Any]
) -> None:
    """The next visit is after the day of this one, that day read in the company's zone."""
    next_on = state["next_visit_on"]
    if next_on is None:
        return
    zone = await timezone_of(session, principal.tenant.id)
    if next_on <= rules.local_date(state["visited_at"], zone):
        raise DomainError.one(
            "next_visit_on", ErrorCode.INVALID, "must be after the date of visited_at"
        )


async def _take_plan(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    plan_id: uuid.UUID,
    record_id: uuid.UUID | None = None,
) -> None:
    """The plan a visit carries out: a live, visible plan of the same customer, not cancelled,
    not reported by another visit. It becomes done here, in the visit's transaction."""
    plan = await repository.plans.get(session, plan_id, scope=principal.data_scope)
    if plan is None or plan.customer_id != customer_id:
        raise DomainError.one("plan_id", ErrorCode.NOT_FOUND, "no such visit plan at this customer")
    if plan.status is VisitPlanStatus.cancelled:
        raise DomainError.one("plan_id", ErrorCode.INVALID, "the visit plan was cancelled")
    existing = await repository.record_of_plan(session, plan_id)
    if existing is not None and existing.id != record_id:
        raise DomainError.one(
            "plan_id", ErrorCode.DUPLICATE, "another visit record carries out this plan"
        )
    if plan.status is VisitPlanStatus.planned:
        await records.apply_update(session, principal, plan, {"status": VisitPlanStatus.done}, PLAN)


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_visit_records_plan_id" in str(exc.orig):
            raise DomainError.one(
                "plan_id", ErrorCode.DUPLICATE, "another visit record carries out this plan"
            ) from None
        raise


async def create_record(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> VisitRecord:
    fields = _fields(VisitRecordFields, data)
    _required(fields, RECORD_REQUIRED)
    _not_null(fields, RECORD_NOT_NULL)
    if fields.get("visited_at") is None:
        fields["visited_at"] = datetime.now(UTC)
    fields.setdefault("expenses", Decimal("0.00"))
    await _customer(session, principal, customer_id)
    await _visitor(session, principal, fields)
    if fields.get("currency") is None:
        fields["currency"] = await _currency_of(session, principal)
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, customer_id, fields["contact_id"])
    await _check_next_visit(
        session, principal, {**fields, "next_visit_on": fields.get("next_visit_on")}
    )
    if fields.get("plan_id") is not None:
        await _take_plan(session, principal, customer_id, fields["plan_id"])
    record = VisitRecord(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_record(record)
    session.add(record)
    await _flush(session)
    audit.record(session, principal, "create", RECORD, record.id, audit.snapshot(record))
    return record


async def update_record(
    session: AsyncSession,
    principal: Principal,
    record_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> VisitRecord:
    """The customer does not change; naming a (new) plan marks that plan done. The date rule is
    checked on the record as it will be."""
    fields = _fields(VisitRecordFields, data)
    _not_null(fields, RECORD_NOT_NULL)
    record = await records.get_for_write(
        session,
        VisitRecord,
        record_id,
        expected_version,
        RECORD,
        visible=_records_visible(principal),
    )
    if "visitor_id" in fields:
        await records.check_member(session, principal, fields["visitor_id"], "visitor_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, record.customer_id, fields["contact_id"])
    state = {n: fields.get(n, getattr(record, n)) for n in ("visited_at", "next_visit_on")}
    await _check_next_visit(session, principal, state)
    if fields.get("plan_id") is not None and fields["plan_id"] != record.plan_id:
        await _take_plan(session, principal, record.customer_id, fields["plan_id"], record.id)
    return await records.apply_update(
        session, principal, record, fields, RECORD, refresh=_refresh_record, flush=_flush
    )


def _records_visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visit_records.visible(principal.data_scope)


_visit_plan_lifecycle = records.Lifecycle(VisitPlan, PLAN, _plans_visible)
soft_delete_plan = _visit_plan_lifecycle.soft_delete
restore_plan = _visit_plan_lifecycle.restore
# destroy_plan: The plan's report stays (its ``plan_id`` becomes null).
destroy_plan = _visit_plan_lifecycle.destroy

_visit_record_lifecycle = records.Lifecycle(VisitRecord, RECORD, _records_visible)
soft_delete_record = _visit_record_lifecycle.soft_delete
restore_record = _visit_record_lifecycle.restore
destroy_record = _visit_record_lifecycle.destroy
