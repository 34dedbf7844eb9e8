"""Survey template mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.surveys import inputs as I
from crm_api.surveys.queries import LIST, base
from crm_api.surveys.types import SurveyTemplate
from crm_api.verbs import lifecycle_fields
from crm_core.identity.principal import Principal
from crm_core.surveys import service
from crm_core.surveys.models import SurveyTemplate as Row

MAX_BATCH = 50


@strawberry.type
class SurveyTemplatePayload:
    survey_template: SurveyTemplate | None
    errors: list[UserError]


@strawberry.type
class SurveyTemplatesPayload:
    survey_templates: list[SurveyTemplate]
    errors: list[UserError]


@strawberry.type
class DestroySurveyTemplatePayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect="SurveyTemplate")[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> SurveyTemplatePayload:
    row, errors = result
    return SurveyTemplatePayload(
        survey_template=SurveyTemplate.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class SurveyMutations:
    @strawberry.mutation(extensions=requires("survey:create"))
    async def create_survey_template(
        self, info: Info, input: I.CreateSurveyTemplateInput
    ) -> SurveyTemplatePayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.create(session, who, input_data(input))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.", extensions=requires("survey:create")
    )
    async def create_survey_templates(
        self, info: Info, inputs: list[I.CreateSurveyTemplateInput]
    ) -> SurveyTemplatesPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            return await service.create_many(session, who, [input_data(i) for i in inputs])

        rows, errors = await run(info, work, prefix="inputs")
        return SurveyTemplatesPayload(
            survey_templates=[SurveyTemplate.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(extensions=requires("survey:update"))
    async def update_survey_template(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateSurveyTemplateInput,
        version: int | None = None,
    ) -> SurveyTemplatePayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.update(
                session, who, _pk(id), input_data(input), expected_version=version
            )

        return _payload(await run(info, work))

    update_survey_templates = update_many_field(
        type_name="SurveyTemplate",
        plural="surveyTemplates",
        lists=LIST,
        filter_input=I.SurveyTemplateFilter,
        update_input=I.UpdateSurveyTemplateInput,
        gql_type=SurveyTemplate,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: SurveyTemplate.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="survey:update",
    )

    delete_survey_template, restore_survey_template, destroy_survey_template = lifecycle_fields(
        type_name="SurveyTemplate",
        payload=SurveyTemplatePayload,
        destroy_payload=DestroySurveyTemplatePayload,
        convert=lambda info, row: SurveyTemplate.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="survey",
        restore_description="Refused for an active template while another is active for its trigger.",
    )
