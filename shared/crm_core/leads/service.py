"""Lead use cases: validate and normalise (phones and e-mails as for customers), keep the status
workflow of ``models.TRANSITIONS``, and convert a qualified lead into a customer with its primary
contact — through the customer and contact services, so their validation, cleansing and audit
apply — in the caller's one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contacts import service as contacts_service
from crm_core.contacts.models import Contact
from crm_core.customers import service as customers_service
from crm_core.customers.models import CustomerKind, LifecycleStage
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.leads import repository
from crm_core.leads.models import TRANSITIONS, Lead, LeadStatus
from crm_core.leads.schemas import LeadFields
from crm_core.security.tenant_keys import TenantCipher
from crm_core.validation import parse
from crm_core.workflow import check_transition

WHAT = "lead"
TEXT_FIELDS = ("name", "company_name", "title", "province", "city")
NOT_NULL = ("name", "status", "score")


def _fields(data: Mapping[str, Any], *, default_region: str) -> dict[str, Any]:
    parsed = parse(LeadFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    errors: list[FieldError] = []
    for name in TEXT_FIELDS:
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    if fields.get("notes") is not None:
        fields["notes"] = normalize.clean_multiline(fields["notes"])
    if "interests" in fields:
        given = fields["interests"] or []  # an explicit null clears the list
        fields["interests"] = list(dict.fromkeys(t for t in map(normalize.clean_text, given) if t))
    if "phone" in fields:
        raw = normalize.clean_text(fields.pop("phone"))
        fields["phone"], fields["phone_raw"] = None, raw
        if raw:
            result = normalize.normalize_phone(raw, default_region=default_region)
            if result.issue is not None:
                errors.append(FieldError("phone", ErrorCode.INVALID, result.issue.message))
            fields["phone"] = result.e164
    if fields.get("email"):
        email = normalize.normalize_email(fields["email"])
        if email.issue is not None:
            errors.append(FieldError("email", ErrorCode.INVALID, email.issue.message))
        fields["email"] = email.normalized
    elif "email" in fields:
        fields["email"] = None
    if errors:
        raise DomainError(errors)
    return fields


def search_text_of(lead: Lead) -> str:
    return normalize.search_text(
        lead.name, lead.company_name, lead.title, lead.phone, lead.email, lead.city
    )


def search_public_of(lead: Lead) -> str:
    """What roles without the personal-data permission may search: no phone, no e-mail."""
    return normalize.search_text(lead.name, lead.company_name, lead.title, lead.city)


def refresh_search(lead: Lead) -> None:
    lead.search_text, lead.search_public = search_text_of(lead), search_public_of(lead)


async def create(
    session: AsyncSession,
    principal: Principal,
    data: Mapping[str, Any],
    *,
    default_region: str = "CN",
) -> Lead:
    fields = _fields(data, default_region=default_region)
    if not fields.get("name"):
        raise DomainError.one("name", ErrorCode.REQUIRED, "required")
    if fields.get("status") not in (None, LeadStatus.new):
        raise DomainError.one("status", ErrorCode.INVALID, "a lead starts new")
    fields["status"] = LeadStatus.new
    fields.setdefault("score", 0)
    # A person owns what they create; an integration's leads go to the shared pool.
    fields.setdefault("owner_id", None if principal.client_id else principal.user_id)
    await records.check_member(session, principal, fields["owner_id"], "owner_id")
    lead = Lead(**fields, created_by=principal.user_id, updated_by=principal.user_id)
    refresh_search(lead)
    session.add(lead)
    await session.flush()
    audit.record(session, principal, "create", WHAT, lead.id, audit.snapshot(lead))
    return lead


async def create_many(
    session: AsyncSession,
    principal: Principal,
    items: Sequence[Mapping[str, Any]],
    *,
    default_region: str = "CN",
) -> list[Lead]:
    """All or nothing: an error in item ``i`` names ``{i}.field`` and nothing is written."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create(session, principal, item, default_region=default_region))
        except DomainError as exc:
            raise DomainError(_prefixed(exc, str(i))) from None
    return out


async def update(
    session: AsyncSession,
    principal: Principal,
    lead_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
    default_region: str = "CN",
) -> Lead:
    fields = _fields(data, default_region=default_region)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and not fields[f] and fields[f] != 0
    ]
    if cleared:
        raise DomainError(cleared)
    lead = await records.get_for_write(
        session, Lead, lead_id, expected_version, WHAT, visible=_visible(principal)
    )
    new_status = fields.get("status")
    if new_status is not None:
        if new_status is LeadStatus.converted and lead.status is not LeadStatus.converted:
            raise DomainError.one(
                "status", ErrorCode.INVALID, "a lead is converted by convertLead, not by an update"
            )
        check_transition(TRANSITIONS, lead.status, new_status)
    if "owner_id" in fields:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    return await records.apply_update(
        session, principal, lead, fields, WHAT, refresh=refresh_search
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


def _prefixed(exc: DomainError, prefix: str) -> list[FieldError]:
    return [
        FieldError(f"{prefix}.{e.field}" if e.field else prefix, e.code, e.message)
        for e in exc.errors
    ]


def customer_data_of(lead: Lead) -> dict[str, Any]:
    """The customer a lead becomes: the company (or, without one, the person), its reachability,
    source, region and interests; owned by the lead's owner so the same people see it."""
    data: dict[str, Any] = {
        "name": lead.company_name or lead.name,
        "kind": (CustomerKind.company if lead.company_name else CustomerKind.individual).value,
        "lifecycle_stage": LifecycleStage.new.value,
        "owner_id": lead.owner_id,
        "preferred_products": list(lead.interests or []),
    }
    optional = {
        "phone": lead.phone or lead.phone_raw,
        "email": lead.email,
        "source": lead.source.value if lead.source is not None else None,
        "province": lead.province,
        "city": lead.city,
        "notes": lead.notes,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    return data


def contact_data_of(lead: Lead, *, primary: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"name": lead.name, "is_primary": primary}
    if lead.title:
        data["title"] = lead.title
    if lead.phone or lead.phone_raw:
        data["phones"] = [{"label": "mobile", "number": lead.phone or lead.phone_raw}]
    if lead.email:
        data["emails"] = [{"label": "work", "address": lead.email}]
    return data


async def _has_primary_contact(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    stmt = select(Contact.id).where(
        Contact.customer_id == customer_id,
        Contact.is_primary.is_(True),
        Contact.deleted_at.is_(None),
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def convert(
    session: AsyncSession,
    principal: Principal,
    lead_id: uuid.UUID,
    *,
    customer_id: uuid.UUID | None = None,
    customer_data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    default_region: str = "CN",
    cipher: TenantCipher | None = None,
) -> Lead:
    """Make the lead's customer (``customer_data`` overrides or adds customer fields) and its
    primary contact, or, with ``customer_id``, only the contact at that existing customer (primary
    when the customer has none yet). Only a qualified lead converts. The caller's transaction makes
    it all or nothing: a refused customer (say, a duplicate code) leaves no contact and no change
    to the lead. Errors about the customer's fields name ``customer.<field>``."""
    lead = await records.get_for_write(
        session, Lead, lead_id, expected_version, WHAT, visible=_visible(principal)
    )
    if lead.status is LeadStatus.converted:
        raise DomainError.one("status", ErrorCode.INVALID, "the lead is already converted")
    if lead.status is not LeadStatus.qualified:
        raise DomainError.one(
            "status", ErrorCode.INVALID, f"only a qualified lead converts (it is {lead.status})"
        )
    if customer_id is not None and customer_data:
        raise DomainError.one(
            "customer", ErrorCode.INVALID, "give an existing customer or new customer fields"
        )
    primary = True
    if customer_id is None:
        data = customer_data_of(lead) | dict(customer_data or {})
        try:
            customer = await customers_service.create(
                session, principal, data, default_region=default_region, cipher=cipher
            )
        except DomainError as exc:
            raise DomainError(_prefixed(exc, "customer")) from None
        customer_id = customer.id
    else:
        # The contact service checks that the customer is live and in the writer's scope.
        primary = not await _has_primary_contact(session, customer_id)
    try:
        contact = await contacts_service.create(
            session,
            principal,
            customer_id,
            contact_data_of(lead, primary=primary),
            default_region=default_region,
        )
    except DomainError as exc:
        if exc.code is ErrorCode.NOT_FOUND:
            raise
        raise DomainError(_prefixed(exc, "contact")) from None
    before = audit.snapshot(lead)
    lead.status = LeadStatus.converted
    lead.converted_customer_id = customer_id
    lead.converted_contact_id = contact.id
    lead.converted_at = datetime.now(UTC)
    lead.updated_by = principal.user_id
    await session.flush()
    audit.record(
        session, principal, "convert", WHAT, lead.id, audit.diff(before, audit.snapshot(lead))
    )
    return lead


_lifecycle = records.Lifecycle(Lead, WHAT, _visible)
soft_delete = _lifecycle.soft_delete
restore = _lifecycle.restore
destroy = _lifecycle.destroy
