"""Requirement analysis use cases: always on a live customer of the tenant, visible to the writer;
the implementation status follows the workflow in ``models.TRANSITIONS``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
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
from crm_core.requirements import repository
from crm_core.requirements.models import TRANSITIONS, RequirementAnalysis, RequirementStatus
from crm_core.requirements.schemas import RequirementFields
from crm_core.validation import parse
from crm_core.workflow import check_transition

WHAT = "requirement"
NOT_NULL = ("summary", "priority", "implementation_status", "owner_id")
TEXTS = (
    "summary",
    "product_features",
    "service_content",
    "analysis",
    "proposed_solution",
    "effect",
)


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(RequirementFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in TEXTS:
        if fields.get(name) is not None:
            fields[name] = normalize.clean_multiline(fields[name])
    return fields


def _refresh_search(r: RequirementAnalysis) -> None:
    # Bounded: the trigram index need not hold whole analyses.
    r.search_text = normalize.search_text(
        (r.summary or "")[:1000],
        (r.product_features or "")[:500],
        (r.service_content or "")[:500],
        (r.proposed_solution or "")[:500],
    )


async def create(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> RequirementAnalysis:
    fields = _fields(data)
    if not fields.get("summary"):
        raise DomainError.one("summary", ErrorCode.REQUIRED, "required")
    for name in ("priority", "implementation_status"):
        if fields.get(name) is None:
            fields.pop(name, None)
    if fields.get("implementation_status") not in (None, RequirementStatus.proposed):
        raise DomainError.one(
            "implementation_status", ErrorCode.INVALID, "an analysis starts proposed"
        )
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    # Whoever records it owns it, unless they name a colleague; an integration must name one.
    if fields.get("owner_id") is None:
        if principal.client_id is not None:
            raise DomainError.one("owner_id", ErrorCode.REQUIRED, "required")
        fields["owner_id"] = principal.user_id
    await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, customer_id, fields["contact_id"])
    record = RequirementAnalysis(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(record)
    session.add(record)
    await session.flush()
    audit.record(session, principal, "create", WHAT, record.id, audit.snapshot(record))
    return record


async def update(
    session: AsyncSession,
    principal: Principal,
    requirement_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> RequirementAnalysis:
    """The customer does not change: moving records between customers is a merge's work."""
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    record = await records.get_for_write(
        session, RequirementAnalysis, requirement_id, expected_version, WHAT,
        visible=_visible(principal),
    )  # fmt: skip
    if "implementation_status" in fields:
        check_transition(
            TRANSITIONS,
            record.implementation_status,
            fields["implementation_status"],
            "implementation_status",
        )
    if "owner_id" in fields:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("contact_id") is not None:
        await check_at_customer(session, principal, record.customer_id, fields["contact_id"])
    return await records.apply_update(
        session, principal, record, fields, WHAT, refresh=_refresh_search
    )


async def check_at_customer_requirement(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    requirement_id: uuid.UUID,
    field: str = "requirement_id",
) -> None:
    """For records that name a requirement (opportunities): a live, visible analysis of the SAME
    customer; anything else is "not found"."""
    found = await repository.get(session, requirement_id, scope=principal.data_scope)
    if found is None or found.customer_id != customer_id:
        raise DomainError.one(field, ErrorCode.NOT_FOUND, "no such requirement at this customer")


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


_lifecycle = records.Lifecycle(RequirementAnalysis, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
# restore: Only under a live, visible customer: ``visible`` requires both.
restore = _lifecycle.restore
# destroy: Opportunities that grew from it keep existing, without the link (ON DELETE SET NULL).
destroy = _lifecycle.destroy
