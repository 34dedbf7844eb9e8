"""What a caller may write into a survey template, questions included. A bad question is named by
its place in the list (``questions.1.options``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from crm_core.surveys.models import QuestionKind, SurveyKind, SurveyLanguage, SurveyTrigger

MAX_QUESTIONS = 50
MAX_OPTIONS = 20
# A question's key is how responses and reports will name it: stable, short, ASCII.
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"

Option = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
    kind: QuestionKind
    text: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    required: bool = True
    # Checked even when left out: a single-choice question needs them, the others take none.
    options: list[Option] | None = Field(default=None, validate_default=True)

    @field_validator("options")
    @classmethod
    def _options_fit_kind(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        kind = info.data.get("kind")
        if kind is QuestionKind.single_choice:
            if not value or len(value) < 2:
                raise ValueError("a single-choice question needs at least two options")
            if len(value) > MAX_OPTIONS:
                raise ValueError(f"at most {MAX_OPTIONS} options")
            if len(set(value)) != len(value):
                raise ValueError("options must differ")
            return value
        if value:
            raise ValueError("only single-choice questions have options")
        return None


class SurveyTemplateFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    kind: SurveyKind | None = None
    language: SurveyLanguage | None = None
    trigger: SurveyTrigger | None = None
    period_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    intro: Annotated[str, StringConstraints(max_length=5_000)] | None = None
    questions: Annotated[list[Question], Field(max_length=MAX_QUESTIONS)] | None = None
    active: bool | None = None


def stored(questions: list[Question]) -> list[dict[str, Any]]:
    return [q.model_dump(mode="json") for q in questions]
