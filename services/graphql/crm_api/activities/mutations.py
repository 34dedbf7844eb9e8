"""Activity and attendee mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.activities import inputs as I
from crm_api.activities.queries import LIST, base
from crm_api.activities.types import Activity, ActivityAttendee
from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.activities import service
from crm_core.activities.models import Activity as Row
from crm_core.activities.models import ActivityAttendee as AttendeeRow
from crm_core.errors import DomainError, FieldError
from crm_core.identity.principal import Principal

MAX_BATCH = 100


@strawberry.type
class ActivityPayload:
    activity: Activity | None
    errors: list[UserError]


@strawberry.type
class ActivitiesPayload:
    activities: list[Activity]
    errors: list[UserError]


@strawberry.type
class DestroyActivityPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class ActivityAttendeesPayload:
    attendees: list[ActivityAttendee]
    errors: list[UserError]


@strawberry.type
class ActivityAttendeePayload:
    attendee: ActivityAttendee | None
    errors: list[UserError]


@strawberry.type
class RemoveActivityAttendeePayload:
    removed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, expect: str = "Activity", field: str = "id") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> ActivityPayload:
    row, errors = result
    return ActivityPayload(
        activity=Activity.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(extensions=requires("activity:create"))
    async def create_activity(self, info: Info, input: I.CreateActivityInput) -> ActivityPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.create(session, who, input_data(input, id_fields=I.ID_FIELDS))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.", extensions=requires("activity:create")
    )
    async def create_activities(
        self, info: Info, inputs: list[I.CreateActivityInput]
    ) -> ActivitiesPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            data = [input_data(i, id_fields=I.ID_FIELDS) for i in inputs]
            return await service.create_many(session, who, data)

        rows, errors = await run(info, work, prefix="inputs")
        return ActivitiesPayload(
            activities=[Activity.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(extensions=requires("activity:update"))
    async def update_activity(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateActivityInput,
        version: int | None = None,
    ) -> ActivityPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    update_activities = update_many_field(
        type_name="Activity",
        plural="activities",
        lists=LIST,
        filter_input=I.ActivityFilter,
        update_input=I.UpdateActivityInput,
        gql_type=Activity,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: Activity.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="activity:update",
    )

    delete_activity, restore_activity, destroy_activity = lifecycle_fields(
        type_name="Activity",
        payload=ActivityPayload,
        destroy_payload=DestroyActivityPayload,
        convert=lambda info, row: Activity.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="activity",
        destroy_description="Permanent delete, with its attendance list.",
    )

    @strawberry.mutation(
        description=f"Put customers (or their contacts) on an activity's list; all or nothing, "
        f"at most {service.MAX_ATTENDEES_PER_CALL}, within the capacity.",
        extensions=requires("activity:update"),
    )
    async def add_activity_attendees(
        self, info: Info, activity_id: strawberry.ID, attendees: list[I.AddActivityAttendeeInput]
    ) -> ActivityAttendeesPayload:
        async def work(session: AsyncSession, who: Principal) -> list[AttendeeRow]:
            activity = _pk(activity_id, "Activity", "activity_id")
            items = [indexed(n, a, I.ATTENDEE_ID_FIELDS) for n, a in enumerate(attendees)]
            return await service.add_attendees(session, who, activity, items)

        rows, errors = await run(info, work, prefix="attendees")
        return ActivityAttendeesPayload(
            attendees=[ActivityAttendee.from_model(r) for r in rows or []],
            errors=[_top_level(e) for e in errors],
        )

    @strawberry.mutation(extensions=requires("activity:update"))
    async def update_activity_attendee(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateActivityAttendeeInput,
        version: int | None = None,
    ) -> ActivityAttendeePayload:
        async def work(session: AsyncSession, who: Principal) -> AttendeeRow:
            return await service.update_attendee(
                session,
                who,
                _pk(id, "ActivityAttendee"),
                input_data(input),
                expected_version=version,
            )

        row, errors = await run(info, work)
        return ActivityAttendeePayload(
            attendee=ActivityAttendee.from_model(row) if row is not None else None, errors=errors
        )

    @strawberry.mutation(
        description="Take an attendee off the list (deleted, audited).",
        extensions=requires("activity:update"),
    )
    async def remove_activity_attendee(
        self, info: Info, id: strawberry.ID
    ) -> RemoveActivityAttendeePayload:
        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            return await service.remove_attendee(session, who, _pk(id, "ActivityAttendee"))

        removed, errors = await run(info, work)
        return RemoveActivityAttendeePayload(removed_id=id if removed else None, errors=errors)


def indexed(n: int, item: Any, id_fields: dict[str, str]) -> dict[str, Any]:
    """One item of a list argument as plain data; a malformed id names ``{n}.field``."""
    try:
        return input_data(item, id_fields=id_fields)
    except DomainError as exc:
        raise DomainError(
            [
                FieldError(f"{n}.{e.field}" if e.field else str(n), e.code, e.message)
                for e in exc.errors
            ]
        ) from None


def _top_level(error: UserError) -> UserError:
    """A list-wide error (no item index: "activity is full") names the argument itself."""
    if error.field is None:
        return UserError(field="attendees", code=error.code, message=error.message)
    if error.field == "attendees.activityId":
        return UserError(field="activityId", code=error.code, message=error.message)
    return error
