"""Contract and delivery use cases: always on a live customer of the tenant, visible to the writer.
The status follows ``models.TRANSITIONS``; a contract's deliveries fall within its validity, so
moving its dates past a delivery is refused."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contracts import repository

# Deliveries live in deliveries.py; these names stay importable from here for callers.
from crm_core.contracts.deliveries import _delivery_fields as _delivery_fields
from crm_core.contracts.deliveries import create_deliveries as create_deliveries
from crm_core.contracts.deliveries import create_delivery as create_delivery
from crm_core.contracts.deliveries import destroy_delivery as destroy_delivery
from crm_core.contracts.deliveries import restore_delivery as restore_delivery
from crm_core.contracts.deliveries import soft_delete_delivery as soft_delete_delivery
from crm_core.contracts.deliveries import update_delivery as update_delivery
from crm_core.contracts.models import (
    TRANSITIONS,
    Contract,
    ContractDelivery,
    ContractStatus,
    contract_number_seq,
)
from crm_core.contracts.schemas import ContractFields
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.tenants.models import Tenant
from crm_core.validation import parse
from crm_core.workflow import check_transition

WHAT = "contract"
REQUIRED = ("name", "starts_on", "ends_on")
NOT_NULL = (*REQUIRED, "number", "amount", "currency", "status")
# A contract may be recorded as drafted, or (entered after the fact) as already in force.
START_STATUSES = frozenset({ContractStatus.draft, ContractStatus.active})


async def default_currency(session: AsyncSession, principal: Principal) -> str:
    """The company's currency (core.tenants; works from a tenant-bound session), else CNY."""
    stmt = select(Tenant.currency).where(Tenant.id == principal.tenant.id)
    return (await session.execute(stmt)).scalar_one_or_none() or "CNY"


# --- contracts ------------------------------------------------------------------------------


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(ContractFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("number", "name"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    for name in ("terms", "notes"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    return fields


def _refresh_search(c: Contract) -> None:
    # Bounded: the trigram index need not hold whole contracts.
    c.search_text = normalize.search_text(
        c.number, c.name, (c.terms or "")[:2000], (c.notes or "")[:500]
    )


def _check_dates(state: Mapping[str, Any]) -> None:
    """Dates in order; the error names the later field (house rule)."""
    errors = []
    if state["ends_on"] <= state["starts_on"]:
        errors.append(FieldError("ends_on", ErrorCode.INVALID, "must be after starts_on"))
    elif state["signed_on"] is not None and state["ends_on"] < state["signed_on"]:
        errors.append(FieldError("ends_on", ErrorCode.INVALID, "must not be before signed_on"))
    if errors:
        raise DomainError(errors)


async def _check_opportunity(
    session: AsyncSession, customer_id: uuid.UUID, opportunity_id: uuid.UUID
) -> None:
    """A live opportunity of the SAME customer (anything else is "not found"), not lost."""
    from crm_core.opportunities.models import Opportunity

    opp: Any = Opportunity
    stmt = select(opp.outcome).where(
        opp.id == opportunity_id, opp.customer_id == customer_id, opp.deleted_at.is_(None)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        raise DomainError.one(
            "opportunity_id", ErrorCode.NOT_FOUND, "no such opportunity of this customer"
        )
    if getattr(row[0], "value", row[0]) == "lost":
        raise DomainError.one(
            "opportunity_id", ErrorCode.INVALID, "a lost opportunity cannot lead to a contract"
        )


async def _check_number(
    session: AsyncSession, number: str, other_than: uuid.UUID | None = None
) -> None:
    if await repository.number_taken(session, number, other_than=other_than):
        raise DomainError.one("number", ErrorCode.DUPLICATE, "another contract has this number")


async def _next_number(session: AsyncSession) -> str:
    # A number typed in by hand may already use the sequence's next value: skip past it.
    while True:
        n = (await session.execute(select(contract_number_seq.next_value()))).scalar_one()
        number = f"CT-{n:06d}"
        if not await repository.number_taken(session, number):
            return number


async def _flush(session: AsyncSession) -> None:
    """Two writers racing for one number: the partial unique index decides."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_contracts_number_live" in str(exc.orig):
            raise DomainError.one(
                "number", ErrorCode.DUPLICATE, "another contract has this number"
            ) from None
        raise


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> Contract:
    fields = _fields(data)
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in REQUIRED if not fields.get(f)]
    missing += [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f not in REQUIRED and f in fields and fields[f] is None
    ]
    if missing:
        raise DomainError(missing)
    status = fields.setdefault("status", ContractStatus.draft)
    if status not in START_STATUSES:
        raise DomainError.one("status", ErrorCode.INVALID, "a contract starts as draft or active")
    _check_dates({"signed_on": fields.get("signed_on"), **fields})
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    if fields.get("opportunity_id") is not None:
        await _check_opportunity(session, customer_id, fields["opportunity_id"])
    # A person owns what they create; an integration's records go to the shared pool.
    fields.setdefault("owner_id", None if principal.client_id else principal.user_id)
    if fields["owner_id"] is not None:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("number"):
        await _check_number(session, fields["number"])
    else:
        fields["number"] = await _next_number(session)
    if fields.get("currency") is None:
        fields["currency"] = await default_currency(session, principal)
    contract = Contract(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(contract)
    session.add(contract)
    await _flush(session)
    audit.record(session, principal, "create", WHAT, contract.id, audit.snapshot(contract))
    return contract


async def _deliveries_outside(
    session: AsyncSession, contract_id: uuid.UUID, starts_on: date, ends_on: date
) -> list[FieldError]:
    """The contract's live deliveries must stay within its validity: name the date that moved."""
    base = select(ContractDelivery.id).where(
        ContractDelivery.contract_id == contract_id, repository.delivery_live()
    )
    errors = []
    early = base.where(ContractDelivery.due_on < starts_on).limit(1)
    if (await session.execute(early)).first() is not None:
        errors.append(
            FieldError("starts_on", ErrorCode.INVALID, "a delivery of this contract is due before")
        )
    late = base.where(ContractDelivery.due_on > ends_on).limit(1)
    if (await session.execute(late)).first() is not None:
        errors.append(
            FieldError("ends_on", ErrorCode.INVALID, "a delivery of this contract is due after")
        )
    return errors


async def update(
    session: AsyncSession,
    principal: Principal,
    contract_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Contract:
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
    contract = await records.get_for_write(
        session, Contract, contract_id, expected_version, WHAT, visible=_visible(principal)
    )
    if fields.get("status") is not None:
        check_transition(TRANSITIONS, contract.status, fields["status"])
    state = {n: fields.get(n, getattr(contract, n)) for n in ("signed_on", "starts_on", "ends_on")}
    _check_dates(state)
    if "starts_on" in fields or "ends_on" in fields:
        outside = await _deliveries_outside(
            session, contract.id, state["starts_on"], state["ends_on"]
        )
        if outside:
            raise DomainError(outside)
    if fields.get("opportunity_id") not in (None, contract.opportunity_id):
        await _check_opportunity(session, contract.customer_id, fields["opportunity_id"])
    if "owner_id" in fields:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("number") not in (None, contract.number):
        await _check_number(session, fields["number"], other_than=contract.id)
    return await records.apply_update(
        session, principal, contract, fields, WHAT, refresh=_refresh_search, flush=_flush
    )


async def restore(session: AsyncSession, principal: Principal, contract_id: uuid.UUID) -> Contract:
    """Only under a live, visible customer, and while no live contract took its number."""
    contract = await repository.get(
        session, contract_id, include_deleted=True, scope=principal.data_scope
    )
    if contract is not None and contract.deleted_at is not None:
        await _check_number(session, contract.number, other_than=contract.id)
    return await records.restore(
        session, principal, Contract, contract_id, WHAT, visible=_visible(principal)
    )


async def expire_ended(session: AsyncSession, principal: Principal, today: date) -> list[Contract]:
    """Active contracts whose validity ended before ``today`` become expired (a periodic sweep,
    run for the whole tenant as the system); each change is audited."""
    stmt = (
        select(Contract)
        .where(
            Contract.status == ContractStatus.active,
            Contract.ends_on < today,
            repository.live(),
        )
        .with_for_update(skip_locked=True)
    )
    expired = list((await session.execute(stmt)).scalars())
    for contract in expired:
        await records.apply_update(
            session, principal, contract, {"status": ContractStatus.expired}, WHAT
        )
    return expired


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(Contract, WHAT, _visible)
# soft_delete: Its deliveries stay as they are and disappear with it (they are visible through it).
soft_delete = _lifecycle.soft_delete
# destroy: Hard delete with its deliveries; its orders stay, without the contract.
destroy = _lifecycle.destroy
