"""Segment mutations: thin — turn the CustomerFilter into the list's filter spec, call the
service (which checks it by compiling it as the customers list does), map the result."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from crm_api.context import Info
from crm_api.customers.inputs import ID_FIELDS as CUSTOMER_ID_FIELDS
from crm_api.customers.queries import LIST as CUSTOMERS
from crm_api.errors import UserError, camel
from crm_api.filters import to_spec
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.segments import inputs as I
from crm_api.segments.types import Segment
from crm_api.verbs import lifecycle_fields
from crm_core.identity.principal import Principal
from crm_core.segments import service
from crm_core.segments.models import Segment as Row

MAX_BATCH = 100


@strawberry.type
class SegmentPayload:
    segment: Segment | None
    errors: list[UserError]


@strawberry.type
class SegmentsPayload:
    segments: list[Segment]
    errors: list[UserError]


@strawberry.type
class DestroySegmentPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect="Segment")[1]


def _data(input: I.CreateSegmentInput | I.UpdateSegmentInput) -> dict[str, Any]:
    """The plain fields, and the filter as the normalised spec the customers list compiles."""
    data = {
        f.name: getattr(input, f.name)
        for f in dataclasses.fields(input)
        if f.name != "filter" and getattr(input, f.name) is not UNSET
    }
    if input.filter is not UNSET:
        data["filter"] = to_spec(input.filter, dict(CUSTOMER_ID_FIELDS)) or {}
    return data


def _inside_input(errors: list[UserError]) -> list[UserError]:
    """``filter`` is also a top-level argument name elsewhere (kept as is by ``user_errors``);
    here it is the segment's field, inside ``input``."""
    return [
        UserError(field=f"input.{camel(e.field)}", code=e.code, message=e.message)
        if e.field is not None and e.field.split(".")[0] == "filter"
        else e
        for e in errors
    ]


def _payload(result: tuple[Row | None, list[UserError]]) -> SegmentPayload:
    row, errors = result
    return SegmentPayload(
        segment=Segment.from_model(row) if row is not None else None,
        errors=_inside_input(errors),
    )


COLUMNS, PERSONAL = CUSTOMERS.columns, CUSTOMERS.personal


@strawberry.type
class SegmentMutations:
    @strawberry.mutation(extensions=requires("segment:create"))
    async def create_segment(self, info: Info, input: I.CreateSegmentInput) -> SegmentPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.create(
                session, who, _data(input), columns=COLUMNS, personal=PERSONAL
            )

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.", extensions=requires("segment:create")
    )
    async def create_segments(
        self, info: Info, inputs: list[I.CreateSegmentInput]
    ) -> SegmentsPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            return await service.create_many(
                session, who, [_data(i) for i in inputs], columns=COLUMNS, personal=PERSONAL
            )

        rows, errors = await run(info, work, prefix="inputs")
        return SegmentsPayload(segments=[Segment.from_model(r) for r in rows or []], errors=errors)

    @strawberry.mutation(
        description="Yours; or a shared one, with the segment:manage permission.",
        extensions=requires("segment:update"),
    )
    async def update_segment(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateSegmentInput,
        version: int | None = None,
    ) -> SegmentPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.update(
                session,
                who,
                _pk(id),
                _data(input),
                expected_version=version,
                columns=COLUMNS,
                personal=PERSONAL,
            )

        return _payload(await run(info, work))

    delete_segment, restore_segment, destroy_segment = lifecycle_fields(
        type_name="Segment",
        payload=SegmentPayload,
        destroy_payload=DestroySegmentPayload,
        convert=lambda info, row: Segment.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="segment",
    )
