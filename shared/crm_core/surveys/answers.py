"""Validating a response against its template's questions. Every problem is reported at once, each
named by the question's key (``answers.overall``), so the public form can show them beside the
questions. Values may come from a JSON body (numbers, strings) or a form (strings only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crm_core.cleansing import normalize
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.surveys.models import QuestionKind

MAX_TEXT = 2_000
RANGES = {QuestionKind.csat.value: (1, 5), QuestionKind.nps.value: (0, 10)}


@dataclass(frozen=True, slots=True)
class ValidAnswers:
    answers: dict[str, Any]
    csat: int | None  # the first CSAT question's answer: what the roll-ups average
    nps: int | None  # the first NPS question's answer
    comment: str | None


def _score(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate(
    questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any], comment: Any = None
) -> ValidAnswers:
    errors: list[FieldError] = []
    by_key = {q["key"]: q for q in questions}
    for key in answers:
        if key not in by_key:
            errors.append(
                FieldError(f"answers.{key}", ErrorCode.INVALID, "not a question of this survey")
            )
    out: dict[str, Any] = {}
    scores: dict[str, int | None] = {QuestionKind.csat.value: None, QuestionKind.nps.value: None}
    for q in questions:
        key, kind = q["key"], q["kind"]
        field = f"answers.{key}"
        value = answers.get(key)
        if _blank(value):
            if q.get("required", True):
                errors.append(FieldError(field, ErrorCode.REQUIRED, "please answer this question"))
            continue
        if kind in RANGES:
            low, high = RANGES[kind]
            score = _score(value)
            if score is None or not low <= score <= high:
                errors.append(
                    FieldError(field, ErrorCode.INVALID, f"a whole number from {low} to {high}")
                )
                continue
            out[key] = score
            if scores[kind] is None:
                scores[kind] = score
        elif kind == QuestionKind.single_choice.value:
            options = q.get("options") or []
            if not isinstance(value, str) or value.strip() not in options:
                errors.append(FieldError(field, ErrorCode.INVALID, "one of the options"))
                continue
            out[key] = value.strip()
        else:  # free text
            if not isinstance(value, str):
                errors.append(FieldError(field, ErrorCode.INVALID, "text"))
                continue
            text = normalize.clean_multiline(value) or ""
            if len(text) > MAX_TEXT:
                errors.append(
                    FieldError(field, ErrorCode.TOO_LONG, f"at most {MAX_TEXT} characters")
                )
                continue
            out[key] = text
    note: str | None = None
    if not _blank(comment):
        if not isinstance(comment, str):
            errors.append(FieldError("comment", ErrorCode.INVALID, "text"))
        else:
            note = normalize.clean_multiline(comment) or None
            if note is not None and len(note) > MAX_TEXT:
                errors.append(
                    FieldError("comment", ErrorCode.TOO_LONG, f"at most {MAX_TEXT} characters")
                )
    if errors:
        raise DomainError(errors)
    return ValidAnswers(out, scores[QuestionKind.csat.value], scores[QuestionKind.nps.value], note)
