"""Requirement analysis mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.requirements import inputs as I
from crm_api.requirements.queries import LIST, base
from crm_api.requirements.types import RequirementAnalysis
from crm_core.errors import DomainError, FieldError
from crm_core.identity.principal import Principal
from crm_core.requirements import service
from crm_core.requirements.models import RequirementAnalysis as Row

MAX_BATCH = 100


@strawberry.type
class RequirementAnalysisPayload:
    requirement_analysis: RequirementAnalysis | None
    errors: list[UserError]


@strawberry.type
class RequirementAnalysesPayload:
    requirement_analyses: list[RequirementAnalysis]
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


def _items(inputs: list[I.CreateRequirementAnalysisItemInput]) -> list[tuple[uuid.UUID, Any]]:
    """Each item's customer and fields; a bad global id names its item (``{i}.customerId``)."""
    out = []
    for i, item in enumerate(inputs):
        try:
            data = input_data(item, id_fields=I.ID_FIELDS)
        except DomainError as exc:
            raise DomainError(
                [FieldError(f"{i}.{e.field}", e.code, e.message) for e in exc.errors]
            ) from None
        out.append((data.pop("customer_id"), data))
    return out


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

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.",
        extensions=requires("requirement:create"),
    )
    async def create_requirement_analyses(
        self, info: Info, inputs: list[I.CreateRequirementAnalysisItemInput]
    ) -> RequirementAnalysesPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            return await service.create_many(session, who, _items(inputs))

        rows, errors = await run(info, work, prefix="inputs")
        return RequirementAnalysesPayload(
            requirement_analyses=[RequirementAnalysis.from_model(r) for r in rows or []],
            errors=errors,
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

    @strawberry.mutation(
        description="Soft delete: restorable.", extensions=requires("requirement:delete")
    )
    async def delete_requirement_analysis(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> RequirementAnalysisPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.soft_delete(session, who, _pk(id), expected_version=version)

        return _payload(await run(info, work))

    @strawberry.mutation(extensions=requires("requirement:restore"))
    async def restore_requirement_analysis(
        self, info: Info, id: strawberry.ID
    ) -> RequirementAnalysisPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.restore(session, who, _pk(id))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description="Permanent delete; opportunities that name it lose the link.",
        extensions=requires("requirement:destroy"),
    )
    async def destroy_requirement_analysis(
        self, info: Info, id: strawberry.ID
    ) -> DestroyRequirementAnalysisPayload:
        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            return await service.destroy(session, who, _pk(id))

        destroyed, errors = await run(info, work)
        return DestroyRequirementAnalysisPayload(
            destroyed_id=id if destroyed else None, errors=errors
        )
