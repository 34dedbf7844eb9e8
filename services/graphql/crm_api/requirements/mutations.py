"""Requirement analysis mutations: thin — parse input, call the service, map the result."""

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
from crm_api.requirements import inputs as I
from crm_api.requirements.queries import LIST, base
from crm_api.requirements.types import RequirementAnalysis
from crm_api.verbs import lifecycle_fields
from crm_core.identity.principal import Principal
from crm_core.requirements import service
from crm_core.requirements.models import RequirementAnalysis as Row


@strawberry.type
class RequirementAnalysisPayload:
    requirement_analysis: RequirementAnalysis | None
    errors: list[UserError]


@strawberry.type
class DestroyRequirementAnalysisPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "RequirementAnalysis") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> RequirementAnalysisPayload:
    row, errors = result
    return RequirementAnalysisPayload(
        requirement_analysis=RequirementAnalysis.from_model(row) if row is not None else None,
        errors=errors,
    )


@strawberry.type
class RequirementAnalysisMutations:
    @strawberry.mutation(extensions=requires("requirement:create"))
    async def create_requirement_analysis(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateRequirementAnalysisInput
    ) -> RequirementAnalysisPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(session, who, customer_pk, data)

        return _payload(await run(info, work))

    create_requirement_analyses = create_many_under_customer_field(
        type_name="RequirementAnalysis",
        plural="requirementAnalyses",
        create_input=I.CreateRequirementAnalysisInput,
        gql_type=RequirementAnalysis,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: RequirementAnalysis.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="requirement:create",
    )

    @strawberry.mutation(extensions=requires("requirement:update"))
    async def update_requirement_analysis(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateRequirementAnalysisInput,
        version: int | None = None,
    ) -> RequirementAnalysisPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    update_requirement_analyses = update_many_field(
        type_name="RequirementAnalysis",
        plural="requirementAnalyses",
        lists=LIST,
        filter_input=I.RequirementAnalysisFilter,
        update_input=I.UpdateRequirementAnalysisInput,
        gql_type=RequirementAnalysis,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: RequirementAnalysis.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="requirement:update",
    )

    delete_requirement_analysis, restore_requirement_analysis, destroy_requirement_analysis = (
        lifecycle_fields(
            type_name="RequirementAnalysis",
            payload=RequirementAnalysisPayload,
            destroy_payload=DestroyRequirementAnalysisPayload,
            convert=lambda info, row: RequirementAnalysis.from_model(row),
            soft_delete=service.soft_delete,
            restore=service.restore,
            destroy=service.destroy,
            permission="requirement",
            destroy_description="Permanent delete; opportunities that name it lose the link.",
        )
    )
