"""Activity use cases. An activity's owner is a member inside the writer's data scope, and only
a writer whose scope covers the owner changes the activity; attendees are customers (and their
contacts) the writer sees, on a live, not cancelled activity, within its capacity (a row lock on
the activity serialises seat-taking)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core import records
from crm_core.activities import repository
from crm_core.activities.models import (
    SEATED,
    TRANSITIONS,
    Activity,
    ActivityAttendee,
    ActivityStatus,
    AttendeeStatus,
)
from crm_core.activities.schemas import ActivityFields, AttendeeFields
from crm_core.audit import service as audit
from crm_core.cleansing import normalize
from crm_core.contacts.service import check_at_customer
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode, FieldError, NotFound
from crm_core.identity.principal import Principal
from crm_core.validation import parse
from crm_core.workflow import check_transition

WHAT = "activity"
ATTENDEE = "activity_attendee"
REQUIRED = ("name", "kind", "starts_at")
NOT_NULL = (*REQUIRED, "status")
MAX_ATTENDEES_PER_CALL = 200


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(ActivityFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    for name in ("name", "location"):
        if fields.get(name) is not None:
            fields[name] = normalize.clean_text(fields[name])
    if fields.get("description") is not None:
        fields["description"] = normalize.clean_multiline(fields["description"])
    return fields


def _refresh_search(a: Activity) -> None:
    a.search_text = normalize.search_text(a.name, a.location, (a.description or "")[:1000])


def _check_times(state: Mapping[str, Any]) -> None:
    if state["ends_at"] is not None and state["ends_at"] < state["starts_at"]:
        raise DomainError.one("ends_at", ErrorCode.INVALID, "must not be before starts_at")


def _prefixed(exc: DomainError, prefix: str) -> DomainError:
    return DomainError(
        [
            FieldError(f"{prefix}.{e.field}" if e.field else prefix, e.code, e.message)
            for e in exc.errors
        ]
    )


async def create(session: AsyncSession, principal: Principal, data: Mapping[str, Any]) -> Activity:
    fields = _fields(data)
    missing = [FieldError(f, ErrorCode.REQUIRED, "required") for f in REQUIRED if not fields.get(f)]
    if missing:
        raise DomainError(missing)
    if fields.get("status") not in (None, ActivityStatus.planned):
        raise DomainError.one("status", ErrorCode.INVALID, "an activity starts planned")
    fields["status"] = ActivityStatus.planned
    _check_times({"starts_at": fields["starts_at"], "ends_at": fields.get("ends_at")})
    # A person owns what they create; an integration's activities go to the shared pool.
    fields.setdefault("owner_id", None if principal.client_id else principal.user_id)
    await records.check_member(session, principal, fields["owner_id"], "owner_id")
    activity = Activity(**fields, created_by=principal.user_id, updated_by=principal.user_id)
    _refresh_search(activity)
    session.add(activity)
    await session.flush()
    audit.record(session, principal, "create", WHAT, activity.id, audit.snapshot(activity))
    return activity


async def create_many(
    session: AsyncSession, principal: Principal, items: Sequence[Mapping[str, Any]]
) -> list[Activity]:
    """All or nothing: an error in item ``i`` names ``{i}.field`` and nothing is written."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(await create(session, principal, item))
        except DomainError as exc:
            raise _prefixed(exc, str(i)) from None
    return out


async def update(
    session: AsyncSession,
    principal: Principal,
    activity_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Activity:
    fields = _fields(data)
    cleared = [
        FieldError(f, ErrorCode.REQUIRED, "cannot be empty")
        for f in NOT_NULL
        if f in fields and fields[f] is None
    ]
    if cleared:
        raise DomainError(cleared)
    activity = await records.get_for_write(
        session, Activity, activity_id, expected_version, WHAT, visible=_writable(principal)
    )
    if "status" in fields:
        check_transition(TRANSITIONS, activity.status, fields["status"])
    _check_times({n: fields.get(n, getattr(activity, n)) for n in ("starts_at", "ends_at")})
    if "owner_id" in fields:
        await records.check_member(session, principal, fields["owner_id"], "owner_id")
    if fields.get("capacity") is not None and fields["capacity"] != activity.capacity:
        await repository.lock(session, activity.id)
        taken = (await repository.seats_taken(session, [activity.id]))[activity.id]
        if fields["capacity"] < taken:
            raise DomainError.one("capacity", ErrorCode.INVALID, f"{taken} seats are already taken")
    return await records.apply_update(
        session, principal, activity, fields, WHAT, refresh=_refresh_search
    )


def _writable(principal: Principal) -> ColumnElement[bool]:
    return repository.writable(principal.data_scope)


# --- attendees ---------------------------------------------------------------------------------


async def _open_activity(
    session: AsyncSession, principal: Principal, activity_id: uuid.UUID, field: str
) -> Activity:
    activity = await repository.get(session, activity_id, scope=principal.data_scope)
    if activity is None:
        raise NotFound(field, WHAT)
    if activity.status is ActivityStatus.cancelled:
        raise DomainError.one(field, ErrorCode.INVALID, "the activity was cancelled")
    return activity


def _check_capacity(activity: Activity, taken: int, adding: int, field: str | None) -> None:
    if activity.capacity is not None and taken + adding > activity.capacity:
        free = max(activity.capacity - taken, 0)
        raise DomainError.one(
            field,
            ErrorCode.LIMIT_EXCEEDED,
            f"the activity is full: {free} of {activity.capacity} seats left",
        )


async def add_attendees(
    session: AsyncSession,
    principal: Principal,
    activity_id: uuid.UUID,
    items: Sequence[Mapping[str, Any]],
) -> list[ActivityAttendee]:
    """All or nothing. Errors of item ``i`` name ``{i}.field``; a full activity names the list."""
    if not items:
        raise DomainError.one(None, ErrorCode.REQUIRED, "name at least one attendee")
    if len(items) > MAX_ATTENDEES_PER_CALL:
        raise DomainError.one(
            None, ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_ATTENDEES_PER_CALL} per call"
        )
    activity = await _open_activity(session, principal, activity_id, "activity_id")
    await repository.lock(session, activity.id)
    seen = await repository.existing_keys(session, activity.id)
    parsed: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            fields = _attendee_fields(item)
            customer_id = fields.get("customer_id")
            if customer_id is None:
                raise DomainError.one("customer_id", ErrorCode.REQUIRED, "required")
            if await customers_repo.get(session, customer_id, scope=principal.data_scope) is None:
                raise NotFound("customer_id", "customer")
            if fields.get("contact_id") is not None:
                await check_at_customer(session, principal, customer_id, fields["contact_id"])
            key = (customer_id, fields.get("contact_id"))
            if key in seen:
                raise DomainError.one(
                    "contact_id" if key[1] else "customer_id",
                    ErrorCode.DUPLICATE,
                    "already on this activity's list",
                )
            seen.add(key)
        except DomainError as exc:
            raise _prefixed(exc, str(i)) from None
        if fields.get("status") is None:
            fields["status"] = AttendeeStatus.invited
        parsed.append(fields)
    adding = sum(1 for f in parsed if f["status"] in SEATED)
    if adding:
        taken = (await repository.seats_taken(session, [activity.id]))[activity.id]
        _check_capacity(activity, taken, adding, None)
    out = []
    for fields in parsed:
        attendee = ActivityAttendee(
            activity_id=activity.id,
            **fields,
            created_by=principal.user_id,
            updated_by=principal.user_id,
        )
        session.add(attendee)
        out.append(attendee)
    await _flush(session)
    for attendee in out:
        audit.record(session, principal, "create", ATTENDEE, attendee.id, audit.snapshot(attendee))
    return out


def _attendee_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse(AttendeeFields, dict(data))
    fields = {n: getattr(parsed, n) for n in parsed.model_fields_set}
    if fields.get("note") is not None:
        fields["note"] = normalize.clean_multiline(fields["note"])
    return fields


async def update_attendee(
    session: AsyncSession,
    principal: Principal,
    attendee_id: uuid.UUID,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> ActivityAttendee:
    """Status and note only: another person is another attendee (remove and add)."""
    fields = _attendee_fields(data)
    moved = [n for n in ("customer_id", "contact_id") if n in fields]
    if moved:
        raise DomainError.one(moved[0], ErrorCode.INVALID, "cannot change; add another attendee")
    if "status" in fields and fields["status"] is None:
        raise DomainError.one("status", ErrorCode.REQUIRED, "cannot be empty")
    attendee = await records.get_for_write(
        session,
        ActivityAttendee,
        attendee_id,
        expected_version,
        ATTENDEE,
        visible=repository.attendee_visible(principal.data_scope),
    )
    new = fields.get("status")
    if new is not None and new in SEATED and attendee.status not in SEATED:
        activity = await _open_activity(session, principal, attendee.activity_id, "id")
        await repository.lock(session, activity.id)
        taken = (await repository.seats_taken(session, [activity.id]))[activity.id]
        _check_capacity(activity, taken, 1, "status")
    return await records.apply_update(session, principal, attendee, fields, ATTENDEE)


async def remove_attendee(
    session: AsyncSession, principal: Principal, attendee_id: uuid.UUID
) -> uuid.UUID:
    """Deletes the row (audited with its last values)."""
    return await records.destroy(
        session,
        principal,
        ActivityAttendee,
        attendee_id,
        ATTENDEE,
        visible=repository.attendee_visible(principal.data_scope),
    )


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_activity_attendees_activity_customer_contact" in str(exc.orig):
            raise DomainError.one(
                None, ErrorCode.DUPLICATE, "already on this activity's list"
            ) from None
        raise


_lifecycle = records.Lifecycle(Activity, WHAT, _writable)
soft_delete = _lifecycle.soft_delete
restore = _lifecycle.restore
# destroy: Hard delete, with its attendance list (cascade).
destroy = _lifecycle.destroy
