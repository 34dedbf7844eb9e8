"""Follow-up use cases: always on a live customer of the tenant, visible to the writer."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.followups import repository
from crm_core.followups.models import FollowUp, FollowUpStatus
from crm_core.followups.schemas import FollowUpFields
from crm_core.identity.principal import Principal
from crm_core.validation import parse

WHAT = "follow_up"
TEXTS = ("content", "result", "customer_feedback")
STATE = ("scheduled_at", "remind_at", "status", "done_at", "next_follow_up_at")


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(FollowUpFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in TEXTS:
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    return fields


def _search_text(f: FollowUp) -> str:
    # Bounded: the trigram index need not hold whole reports.
    return normalize.search_text(
        (f.content or "")[:2000], (f.result or "")[:500], (f.customer_feedback or "")[:500]
    )


def _refresh_search(record: FollowUp) -> None:
    record.search_text = _search_text(record)


def _check_state(state: Mapping[str, Any]) -> None:
    """The rules between the timestamps and the status, all reported at once."""
    errors: list[FieldError] = []
    done = state["status"] is FollowUpStatus.done
    if done and state["done_at"] is None:
        errors.append(FieldError("done_at", ErrorCode.REQUIRED, "required when status is done"))
    if not done and state["done_at"] is not None:
        errors.append(FieldError("done_at", ErrorCode.INVALID, "only when status is done"))
    if state["remind_at"] is not None and state["remind_at"] > state["scheduled_at"]:
        errors.append(FieldError("remind_at", ErrorCode.INVALID, "must not be after scheduled_at"))
    nxt, done_at = state["next_follow_up_at"], state["done_at"]
    if nxt is not None and done_at is not None and nxt <= done_at:
        errors.append(FieldError("next_follow_up_at", ErrorCode.INVALID, "must be after done_at"))
    if errors:
        raise DomainError(errors)


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> FollowUp:
    fields = _fields(data)
    if fields.get("scheduled_at") is None:
        raise DomainError.one("scheduled_at", ErrorCode.REQUIRED, "required")
    if fields.get("status") is None:
        fields["status"] = FollowUpStatus.planned
    _check_state({name: fields.get(name) for name in STATE})
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    # Whoever plans it owns it, unless they name a colleague; an integration must name one.
    if fields.get("owner_id") is None:
        if principal.client_id is not None:
            raise DomainError.one("owner_id", ErrorCode.REQUIRED, "required")
        fields["owner_id"] = principal.user_id
    await records.check_member(session, principal, fields["owner_id"], "owner_id")
    follow_up = FollowUp(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(follow_up)
    session.add(follow_up)
    await session.flush()
    audit.record(session, principal, "create", WHAT, follow_up.id, audit.snapshot(follow_up))
    return follow_up


async def update(
    session: AsyncSession,
    principal: Principal,
    follow_up_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> FollowUp:
    """The customer does not change: moving records between customers is a merge's work.
    The rules are checked on the record as it will be (stored values with the changes)."""
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in ("scheduled_at", "status", "owner_id")
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    follow_up = await records.get_for_write(
        session, FollowUp, follow_up_id, expected_version, WHAT, visible=_visible(principal)
    )
    _check_state({name: fields.get(name, getattr(follow_up, name)) for name in STATE})
    if "owner_id" in fields:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    return await records.apply_update(
        session, principal, follow_up, fields, WHAT, refresh=_refresh_search
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(FollowUp, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
# restore: Only under a live, visible customer: ``visible`` requires both.
restore = _lifecycle.restore
destroy = _lifecycle.destroy
