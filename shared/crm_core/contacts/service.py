"""Contact use cases: always under a live customer of the same tenant."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contacts import repository
from crm_core.contacts.models import Contact
from crm_core.contacts.schemas import ContactFields
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.validation import parse

TEXT_FIELDS = ("name", "title", "department", "preferred_time")
LIST_FIELDS = ("phones", "emails", "social_accounts")


def _normalise(
    fields: dict[str, Any], *, default_region: str, lenient: bool = False
) -> dict[str, Any]:
    """With ``lenient`` (imports, demo data) an unparseable number or address is kept as typed."""
    errors: list[FieldError] = []
    for name in LIST_FIELDS:
        if name in fields and fields[name] is None:
            fields[name] = []  # an explicit null clears the list
    for name in TEXT_FIELDS:
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    if fields.get("notes") is not None:
        fields["notes"] = normalize.clean_multiline(fields["notes"])
    if fields.get("phones") is not None:
        phones = []
        for i, p in enumerate(fields["phones"]):
            result = normalize.normalize_phone(p.number, default_region=default_region)
            if result.issue is not None:
                errors.append(
                    FieldError(f"phones.{i}.number", ErrorCode.INVALID, result.issue.message)
                )
            phones.append({"label": p.label, "e164": result.e164, "raw": result.raw})
        fields["phones"] = phones
    if fields.get("emails") is not None:
        emails = []
        for i, e in enumerate(fields["emails"]):
            email = normalize.normalize_email(e.address)
            if email.issue is not None:
                errors.append(
                    FieldError(f"emails.{i}.address", ErrorCode.INVALID, email.issue.message)
                )
            emails.append(
                {"label": e.label, "address": email.normalized or normalize.clean_text(e.address)}
            )
        fields["emails"] = emails
    if fields.get("social_accounts") is not None:
        fields["social_accounts"] = [s.model_dump() for s in fields["social_accounts"]]
    if errors and not lenient:
        raise DomainError(errors)
    return fields


def _search_text(c: Contact) -> str:
    phones = " ".join(p.get("e164") or p.get("raw") or "" for p in c.phones or [])
    emails = " ".join(e.get("address") or "" for e in c.emails or [])
    return normalize.search_text(c.name, c.title, phones, emails)


def _search_public(c: Contact) -> str:
    return normalize.search_text(c.name, c.title)


def _refresh_search(c: Contact) -> None:
    c.search_text, c.search_public = _search_text(c), _search_public(c)


async def _unset_other_primaries(session: AsyncSession, contact: Contact) -> None:
    if contact.is_primary:
        await session.execute(
            sql_update(Contact)
            .where(
                Contact.customer_id == contact.customer_id,
                Contact.id != contact.id,
                Contact.is_primary.is_(True),
            )
            .values(is_primary=False, version=Contact.version + 1)
            .execution_options(synchronize_session=False)
        )


async def create(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    default_region: str = "CN",
    lenient: bool = False,
) -> Contact:
    parsed = parse(ContactFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if not fields.get("name"):
        raise DomainError.one("name", ErrorCode.REQUIRED, "required")
    if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
        raise NotFound("customer_id", "customer")
    fields = _normalise(fields, default_region=default_region, lenient=lenient)
    contact = Contact(
        customer_id=customer_id,
        **fields,
        created_by=principal.user_id,
        updated_by=principal.user_id,
    )
    _refresh_search(contact)
    session.add(contact)
    await session.flush()
    audit.record(session, principal, "create", "contact", contact.id, audit.snapshot(contact))
    await _unset_other_primaries(session, contact)
    return contact


async def update(
    session: AsyncSession,
    principal: Principal,
    contact_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
    default_region: str = "CN",
) -> Contact:
    parsed = parse(ContactFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if "name" in fields and not fields["name"]:
        raise DomainError.one("name", ErrorCode.REQUIRED, "cannot be empty")
    contact = await records.get_for_write(
        session, Contact, contact_id, expected_version, "contact", visible=_visible(principal)
    )
    fields = _normalise(fields, default_region=default_region)
    await records.apply_update(
        session, principal, contact, fields, "contact", refresh=_refresh_search
    )
    await _unset_other_primaries(session, contact)
    return contact


async def restore(session: AsyncSession, principal: Principal, contact_id: uuid.UUID) -> Contact:
    """Only under a live customer: restoring a contact of a deleted customer would orphan it."""
    contact = await records.get(
        session, Contact, contact_id, include_deleted=True, visible=_visible(principal)
    )
    if contact is None:
        raise NotFound("id", "contact")
    return await records.restore(session, principal, Contact, contact_id, "contact")


def _visible(principal: Principal) -> ColumnElement[bool]:
    return repository.visible(principal.data_scope)


async def check_at_customer(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    contact_id: uuid.UUID,
    field: str = "contact_id",
) -> None:
    """For records that name a contact (interactions, complaints, tickets): a live, visible person at the SAME
    customer; anything else is "not found" (a child lookup filters by its parent too)."""
    stmt = select(Contact.id).where(
        Contact.id == contact_id,
        Contact.customer_id == customer_id,
        repository.live(),
        repository.visible(principal.data_scope),
    )
    if (await session.execute(stmt)).first() is None:
        raise DomainError.one(field, ErrorCode.NOT_FOUND, "no such contact at this customer")


_lifecycle = records.Lifecycle(Contact, "contact", _visible)
soft_delete = _lifecycle.soft_delete
destroy = _lifecycle.destroy
