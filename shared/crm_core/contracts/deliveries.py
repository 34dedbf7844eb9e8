"""Contract deliveries (合同交付): what a contract promises and when, and whether the customer
accepted it. A delivery lives under a live, visible contract and falls within its dates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contracts import repository
from crm_core.contracts.models import (
    AcceptanceStatus,
    Contract,
    ContractDelivery,
)
from crm_core.contracts.schemas import DeliveryFields
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.validation import parse


def indexed(errors: Sequence[FieldError], index: int) -> list[FieldError]:
    """Errors of item ``index`` of a batch, named ``{index}.field``."""
    return [
        FieldError(f"{index}.{e.field}" if e.field else str(index), e.code, e.message)
        for e in errors
    ]


def _delivery_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(DeliveryFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("content", "acceptance_notes"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    return fields


def _check_delivery(state: Mapping[str, Any], contract: Contract) -> None:
    """Due within the contract; accepted with a date, judged only once delivered; all at once."""
    errors = []
    if not contract.starts_on <= state["due_on"] <= contract.ends_on:
        errors.append(
            FieldError(
                "due_on",
                ErrorCode.INVALID,
                f"must fall within the contract ({contract.starts_on}..{contract.ends_on})",
            )
        )
    status = state["acceptance_status"]
    if status is not AcceptanceStatus.pending and state["delivered_on"] is None:
        errors.append(
            FieldError("delivered_on", ErrorCode.REQUIRED, "required once accepted or rejected")
        )
    if status is AcceptanceStatus.accepted and state["accepted_on"] is None:
        errors.append(FieldError("accepted_on", ErrorCode.REQUIRED, "required when accepted"))
    if status is not AcceptanceStatus.accepted and state["accepted_on"] is not None:
        errors.append(FieldError("accepted_on", ErrorCode.INVALID, "only when accepted"))
    if (
        state["accepted_on"] is not None
        and state["delivered_on"] is not None
        and state["accepted_on"] < state["delivered_on"]
    ):
        errors.append(
            FieldError("accepted_on", ErrorCode.INVALID, "must not be before delivered_on")
        )
    if errors:
        raise DomainError(errors)


DELIVERY = "contract_delivery"
DELIVERY_NOT_NULL = ("due_on", "content", "acceptance_status")
DELIVERY_STATE = ("due_on", "delivered_on", "acceptance_status", "accepted_on")


async def create_delivery(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, data: Mapping[str, Any]
) -> ContractDelivery:
    fields = _delivery_fields(data)
    missing = [
        FieldError(f, ErrorCode.REQUIRED, "required")
        for f in ("due_on", "content")
        if not fields.get(f)
    ]
    if missing:
        raise DomainError(missing)
    if fields.get("acceptance_status") is None:
        fields["acceptance_status"] = AcceptanceStatus.pending
    contract = await repository.get(session, contract_id, scope=principal.data_scope)
    if contract is None:
        raise NotFound("contract_id", "contract")
    _check_delivery({n: fields.get(n) for n in DELIVERY_STATE}, contract)
    delivery = ContractDelivery(
        contract_id=contract.id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    session.add(delivery)
    await session.flush()
    audit.record(session, principal, "create", DELIVERY, delivery.id, audit.snapshot(delivery))
    return delivery


async def create_deliveries(
    session: AsyncSession,
    principal: Principal,
    contract_id: uuid.UUID,
    items: Sequence[Mapping[str, Any]],
) -> list[ContractDelivery]:
    """All or nothing: an error in item ``i`` names ``{i}.field`` and nothing is written."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create_delivery(session, principal, contract_id, item))
        except DomainError as exc:
            raise DomainError(indexed(exc.errors, i)) from None
    return out


async def update_delivery(
    session: AsyncSession,
    principal: Principal,
    delivery_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> ContractDelivery:
    """The contract does not change. Leaving ``accepted`` clears ``accepted_on`` unless given."""
    fields = _delivery_fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in DELIVERY_NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    delivery = await records.get_for_write(
        session,
        ContractDelivery,
        delivery_id,
        expected_version,
        DELIVERY,
        visible=_delivery_visible(principal),
    )
    new_status = fields.get("acceptance_status")
    if new_status not in (None, AcceptanceStatus.accepted):
        fields.setdefault("accepted_on", None)
    contract = await repository.get(session, delivery.contract_id)
    assert contract is not None  # visible deliveries have a live contract
    _check_delivery({n: fields.get(n, getattr(delivery, n)) for n in DELIVERY_STATE}, contract)
    return await records.apply_update(session, principal, delivery, fields, DELIVERY)


async def restore_delivery(
    session: AsyncSession, principal: Principal, delivery_id: uuid.UUID
) -> ContractDelivery:
    """Only under a live, visible contract; and only while it still falls within its dates."""
    delivery = await repository.get_delivery(
        session, delivery_id, include_deleted=True, scope=principal.data_scope
    )
    if delivery is not None and delivery.deleted_at is not None:
        contract = await repository.get(session, delivery.contract_id)
        assert contract is not None
        _check_delivery({n: getattr(delivery, n) for n in DELIVERY_STATE}, contract)
    return await records.restore(
        session,
        principal,
        ContractDelivery,
        delivery_id,
        DELIVERY,
        visible=_delivery_visible(principal),
    )


def _delivery_visible(principal: Principal) -> ColumnElement[bool]:
    return repository.delivery_visible(principal.data_scope)


_lifecycle = records.Lifecycle(ContractDelivery, DELIVERY, _delivery_visible)
soft_delete_delivery = _lifecycle.soft_delete
destroy_delivery = _lifecycle.destroy
