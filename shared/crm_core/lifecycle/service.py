"""Writing the lifecycle history. Called by the customer service only, inside the transaction
that sets or changes a customer's stage, so an event exists exactly when the change does."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.customers.models import Customer, LifecycleStage
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import Principal
from crm_core.lifecycle.models import CustomerLifecycleEvent

REASON_FIELD = "lifecycle_reason"
MAX_REASON = 2_000


def take_reason(data: dict[str, Any]) -> str | None:
    """Remove the reason from a customer's input (it is not a customer column) and check it."""
    reason = data.pop(REASON_FIELD, None)
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise DomainError.one(REASON_FIELD, ErrorCode.INVALID, "must be text")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise DomainError.one(REASON_FIELD, ErrorCode.TOO_LONG, f"at most {MAX_REASON} characters")
    return reason or None


def record_change(
    session: AsyncSession,
    principal: Principal,
    customer: Customer,
    from_stage: LifecycleStage | None,
    reason: str | None,
) -> CustomerLifecycleEvent | None:
    """One event when the stage differs from ``from_stage`` (None: the customer is new).
    Nothing when the stage did not change: the history lists changes, not saves."""
    to_stage = LifecycleStage(customer.lifecycle_stage)
    if from_stage is not None and LifecycleStage(from_stage) is to_stage:
        return None
    actor = None if principal.user_id.int == 0 else principal.user_id
    event = CustomerLifecycleEvent(
        customer_id=customer.id,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_by=actor,
        reason=reason,
    )
    session.add(event)
    return event
