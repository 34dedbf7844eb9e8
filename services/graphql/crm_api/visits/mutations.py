"""Visit plan and visit record mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.activities.mutations import indexed
from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.visits import inputs as I
from crm_api.visits.queries import PLANS, RECORDS, plan_base, record_base
from crm_api.visits.types import VisitPlan, VisitRecord
from crm_core.identity.principal import Principal
from crm_core.visits import service
from crm_core.visits.models import VisitPlan as PlanRow
from crm_core.visits.models import VisitRecord as RecordRow

MAX_BATCH = 100


@strawberry.type
class VisitPlanPayload:
    visit_plan: VisitPlan | None
    errors: list[UserError]


@strawberry.type
class VisitPlansPayload:
    visit_plans: list[VisitPlan]
    errors: list[UserError]


@strawberry.type
class VisitRecordPayload:
    visit_record: VisitRecord | None
    errors: list[UserError]


@strawberry.type
class VisitRecordsPayload:
    visit_records: list[VisitRecord]
    errors: list[UserError]


@strawberry.type
class DestroyVisitPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, expect: str, field: str = "id") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _plan(result: tuple[PlanRow | None, list[UserError]]) -> VisitPlanPayload:
    row, errors = result
    return VisitPlanPayload(
        visit_plan=VisitPlan.from_model(row) if row is not None else None, errors=errors
    )


def _record(result: tuple[RecordRow | None, list[UserError]]) -> VisitRecordPayload:
    row, errors = result
    return VisitRecordPayload(
        visit_record=VisitRecord.from_model(row) if row is not None else None, errors=errors
    )


def _batch(inputs: list[Any], id_fields: dict[str, str]) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    items = []
    for n, item in enumerate(inputs):
        data = indexed(n, item, {**id_fields, "customer_id": "Customer"})
        items.append((data.pop("customer_id"), data))
    return items


@strawberry.type
class VisitMutations:
    @strawberry.mutation(extensions=requires("visit_plan:create"))
    async def create_visit_plan(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateVisitPlanInput
    ) -> VisitPlanPayload:
        async def work(session: AsyncSession, who: Principal) -> PlanRow:
            customer = _pk(customer_id, "Customer", "customer_id")
            data = input_data(input, id_fields=I.PLAN_ID_FIELDS)
            return await service.create_plan(session, who, customer, data)

        return _plan(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.",
        extensions=requires("visit_plan:create"),
    )
    async def create_visit_plans(
        self, info: Info, inputs: list[I.CreateVisitPlansItem]
    ) -> VisitPlansPayload:
        async def work(session: AsyncSession, who: Principal) -> list[PlanRow]:
            bounded(inputs, MAX_BATCH, "inputs")
            return await service.create_plans(session, who, _batch(inputs, I.PLAN_ID_FIELDS))

        rows, errors = await run(info, work, prefix="inputs")
        return VisitPlansPayload(
            visit_plans=[VisitPlan.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(extensions=requires("visit_plan:update"))
    async def update_visit_plan(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateVisitPlanInput,
        version: int | None = None,
    ) -> VisitPlanPayload:
        async def work(session: AsyncSession, who: Principal) -> PlanRow:
            data = input_data(input, id_fields=I.PLAN_ID_FIELDS)
            return await service.update_plan(
                session, who, _pk(id, "VisitPlan"), data, expected_version=version
            )

        return _plan(await run(info, work))

    update_visit_plans = update_many_field(
        type_name="VisitPlan",
        plural="visitPlans",
        lists=PLANS,
        filter_input=I.VisitPlanFilter,
        update_input=I.UpdateVisitPlanInput,
        gql_type=VisitPlan,
        make_base=plan_base,
        update_one=lambda info, session, who, pk, data: service.update_plan(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: VisitPlan.from_model(row),
        id_fields=I.PLAN_ID_FIELDS,
        permission="visit_plan:update",
    )

    @strawberry.mutation(
        description="Soft delete: restorable.", extensions=requires("visit_plan:delete")
    )
    async def delete_visit_plan(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> VisitPlanPayload:
        async def work(session: AsyncSession, who: Principal) -> PlanRow:
            return await service.soft_delete_plan(
                session, who, _pk(id, "VisitPlan"), expected_version=version
            )

        return _plan(await run(info, work))

    @strawberry.mutation(extensions=requires("visit_plan:restore"))
    async def restore_visit_plan(self, info: Info, id: strawberry.ID) -> VisitPlanPayload:
        async def work(session: AsyncSession, who: Principal) -> PlanRow:
            return await service.restore_plan(session, who, _pk(id, "VisitPlan"))

        return _plan(await run(info, work))

    @strawberry.mutation(
        description="Permanent delete; its visit record stays, without the plan.",
        extensions=requires("visit_plan:destroy"),
    )
    async def destroy_visit_plan(self, info: Info, id: strawberry.ID) -> DestroyVisitPayload:
        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            return await service.destroy_plan(session, who, _pk(id, "VisitPlan"))

        destroyed, errors = await run(info, work)
        return DestroyVisitPayload(destroyed_id=id if destroyed else None, errors=errors)

    @strawberry.mutation(
        description="Record a visit; naming `planId` marks that plan DONE in the same transaction.",
        extensions=requires("visit_record:create"),
    )
    async def create_visit_record(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateVisitRecordInput
    ) -> VisitRecordPayload:
        async def work(session: AsyncSession, who: Principal) -> RecordRow:
            customer = _pk(customer_id, "Customer", "customer_id")
            data = input_data(input, id_fields=I.RECORD_ID_FIELDS)
            return await service.create_record(session, who, customer, data)

        return _record(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.",
        extensions=requires("visit_record:create"),
    )
    async def create_visit_records(
        self, info: Info, inputs: list[I.CreateVisitRecordsItem]
    ) -> VisitRecordsPayload:
        async def work(session: AsyncSession, who: Principal) -> list[RecordRow]:
            bounded(inputs, MAX_BATCH, "inputs")
            return await service.create_records(session, who, _batch(inputs, I.RECORD_ID_FIELDS))

        rows, errors = await run(info, work, prefix="inputs")
        return VisitRecordsPayload(
            visit_records=[VisitRecord.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(extensions=requires("visit_record:update"))
    async def update_visit_record(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateVisitRecordInput,
        version: int | None = None,
    ) -> VisitRecordPayload:
        async def work(session: AsyncSession, who: Principal) -> RecordRow:
            data = input_data(input, id_fields=I.RECORD_ID_FIELDS)
            return await service.update_record(
                session, who, _pk(id, "VisitRecord"), data, expected_version=version
            )

        return _record(await run(info, work))

    update_visit_records = update_many_field(
        type_name="VisitRecord",
        plural="visitRecords",
        lists=RECORDS,
        filter_input=I.VisitRecordFilter,
        update_input=I.UpdateVisitRecordInput,
        gql_type=VisitRecord,
        make_base=record_base,
        update_one=lambda info, session, who, pk, data: service.update_record(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: VisitRecord.from_model(row),
        id_fields=I.RECORD_ID_FIELDS,
        permission="visit_record:update",
    )

    @strawberry.mutation(
        description="Soft delete: restorable.", extensions=requires("visit_record:delete")
    )
    async def delete_visit_record(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> VisitRecordPayload:
        async def work(session: AsyncSession, who: Principal) -> RecordRow:
            return await service.soft_delete_record(
                session, who, _pk(id, "VisitRecord"), expected_version=version
            )

        return _record(await run(info, work))

    @strawberry.mutation(extensions=requires("visit_record:restore"))
    async def restore_visit_record(self, info: Info, id: strawberry.ID) -> VisitRecordPayload:
        async def work(session: AsyncSession, who: Principal) -> RecordRow:
            return await service.restore_record(session, who, _pk(id, "VisitRecord"))

        return _record(await run(info, work))

    @strawberry.mutation(
        description="Permanent delete.", extensions=requires("visit_record:destroy")
    )
    async def destroy_visit_record(self, info: Info, id: strawberry.ID) -> DestroyVisitPayload:
        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            return await service.destroy_record(session, who, _pk(id, "VisitRecord"))

        destroyed, errors = await run(info, work)
        return DestroyVisitPayload(destroyed_id=id if destroyed else None, errors=errors)
