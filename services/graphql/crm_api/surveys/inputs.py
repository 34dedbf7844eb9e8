"""Survey template inputs."""

from __future__ import annotations

import enum

import strawberry
from strawberry import UNSET

from crm_api import enums as E
from crm_api.filters import BooleanFilter, DateTimeFilter, IDFilter, StringFilter, enum_filter
from crm_api.relay import NullsOrder, OrderDirection

ID_FIELDS = {"id": "SurveyTemplate"}


@strawberry.input(description="Combine with `and`, `or`, `not`; fields in one object are and-ed.")
class SurveyTemplateFilter:
    and_: list[SurveyTemplateFilter] | None = strawberry.field(name="and", default=None)
    or_: list[SurveyTemplateFilter] | None = strawberry.field(name="or", default=None)
    not_: SurveyTemplateFilter | None = strawberry.field(name="not", default=None)
    id: IDFilter | None = None
    name: StringFilter | None = None
    kind: enum_filter(E.SurveyKindEnum) | None = None  # type: ignore[valid-type]
    language: enum_filter(E.SurveyLanguageEnum) | None = None  # type: ignore[valid-type]
    trigger: enum_filter(E.SurveyTriggerEnum) | None = None  # type: ignore[valid-type]
    active: BooleanFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    deleted_at: DateTimeFilter | None = None


@strawberry.enum
class SurveyTemplateOrderField(enum.Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class SurveyTemplateOrderBy:
    field: SurveyTemplateOrderField
    direction: OrderDirection = OrderDirection.ASC
    nulls: NullsOrder | None = None


@strawberry.input
class SurveyQuestionInput:
    key: str = strawberry.field(description="Lowercase slug (a-z, 0-9, _), unique in the template.")
    kind: E.SurveyQuestionKindEnum
    text: str
    required: bool = True
    options: list[str] | None = strawberry.field(
        default=None, description="Two or more, for SINGLE_CHOICE only."
    )


@strawberry.input
class CreateSurveyTemplateInput:
    name: str
    kind: E.SurveyKindEnum
    trigger: E.SurveyTriggerEnum
    questions: list[SurveyQuestionInput] = strawberry.field(
        description="A CSAT template asks a CSAT question; an NPS one an NPS question."
    )
    language: E.SurveyLanguageEnum | None = strawberry.field(
        default=UNSET, description="ZH when left out."
    )
    period_days: int | None = strawberry.field(
        default=UNSET, description="Required for PERIODIC, refused otherwise."
    )
    intro: str | None = UNSET
    active: bool | None = strawberry.field(
        default=UNSET,
        description="True when left out; one active template per trigger.",
    )


@strawberry.input
class UpdateSurveyTemplateInput:
    name: str | None = UNSET
    kind: E.SurveyKindEnum | None = UNSET
    trigger: E.SurveyTriggerEnum | None = UNSET
    questions: list[SurveyQuestionInput] | None = strawberry.field(
        default=UNSET, description="Replaces every question."
    )
    language: E.SurveyLanguageEnum | None = UNSET
    period_days: int | None = UNSET
    intro: str | None = UNSET
    active: bool | None = UNSET
