"""Visit plan and visit record mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_api.visits import inputs as I
from crm_api.visits.queries import PLANS, RECORDS, plan_base, record_base
from crm_api.visits.types import VisitPlan, VisitRecord
from crm_core.identity.principal import Principal
from crm_core.visits import service
from crm_core.visits.models import VisitPlan as PlanRow
from crm_core.visits.models import VisitRecord as RecordRow


@strawberry.type
class VisitPlanPayload:
    visit_plan: VisitPlan | None
    errors: list[UserError]


@strawberry.type
class VisitRecordPayload:
    visit_record: VisitRecord | None
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

    create_visit_plans = create_many_under_customer_field(
        type_name="VisitPlan",
        plural="visitPlans",
        create_input=I.CreateVisitPlanInput,
        gql_type=VisitPlan,
        create_one=lambda info, session, who, customer_pk, data: service.create_plan(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: VisitPlan.from_model(row),
        id_fields=I.PLAN_ID_FIELDS,
        permission="visit_plan:create",
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

    delete_visit_plan, restore_visit_plan, destroy_visit_plan = lifecycle_fields(
        type_name="VisitPlan",
        payload=VisitPlanPayload,
        destroy_payload=DestroyVisitPayload,
        convert=lambda info, row: VisitPlan.from_model(row),
        soft_delete=service.soft_delete_plan,
        restore=service.restore_plan,
        destroy=service.destroy_plan,
        permission="visit_plan",
        destroy_description="Permanent delete; its visit record stays, without the plan.",
    )

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

    create_visit_records = create_many_under_customer_field(
        type_name="VisitRecord",
        plural="visitRecords",
        create_input=I.CreateVisitRecordInput,
        gql_type=VisitRecord,
        create_one=lambda info, session, who, customer_pk, data: service.create_record(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: VisitRecord.from_model(row),
        id_fields=I.RECORD_ID_FIELDS,
        permission="visit_record:create",
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

    delete_visit_record, restore_visit_record, destroy_visit_record = lifecycle_fields(
        type_name="VisitRecord",
        payload=VisitRecordPayload,
        destroy_payload=DestroyVisitPayload,
        convert=lambda info, row: VisitRecord.from_model(row),
        soft_delete=service.soft_delete_record,
        restore=service.restore_record,
        destroy=service.destroy_record,
        permission="visit_record",
    )
