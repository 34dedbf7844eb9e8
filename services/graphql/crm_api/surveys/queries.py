"""Survey template queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Context, Info
from crm_api.listing import ListArgs, list_connection, list_spec, one_by_id
from crm_api.permissions import requires
from crm_api.relay import Connection
from crm_api.surveys import inputs as I
from crm_api.surveys.types import FIELDS, HIDDEN, SurveyTemplate
from crm_core.query.pagination import SortKey
from crm_core.surveys import repository

LIST = list_spec(FIELDS, HIDDEN, default_order=(SortKey("name"),), id_fields=I.ID_FIELDS)


def base(ctx: Context, include_deleted: bool, search: str | None) -> Select[Any]:
    """Company configuration: the same for every viewer (no data scope)."""
    return repository.base_select(include_deleted=include_deleted, search=search)


@strawberry.type
class SurveyQueries:
    @strawberry.field(
        description="One survey template by global id.", extensions=requires("survey:read")
    )
    async def survey_template(self, info: Info, id: strawberry.ID) -> SurveyTemplate | None:
        loader = info.context.loaders.survey_template_by_id
        return await one_by_id(info, id, "SurveyTemplate", loader, SurveyTemplate.from_model)

    @strawberry.field(
        description="Survey templates, by name unless ordered; keyset-paginated.",
        extensions=requires("survey:read"),
    )
    async def survey_templates(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.SurveyTemplateFilter | None = None,
        order_by: list[I.SurveyTemplateOrderBy] | None = None,
        search: Annotated[str | None, strawberry.argument(description="Words in the name.")] = None,
        include_deleted: bool = False,
    ) -> Connection[SurveyTemplate]:
        args = ListArgs(first, after, last, before, filter, order_by, include_deleted)
        loader = info.context.loaders.survey_template_by_id
        return await list_connection(
            info,
            LIST,
            args,
            lambda: base(info.context, include_deleted, search),
            SurveyTemplate.from_model,
            prime=lambda row: loader.prime(row.id, row),
        )
