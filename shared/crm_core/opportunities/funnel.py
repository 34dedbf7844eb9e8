"""The sales funnel, per company: ordered stages with a default probability and the stages each
may move to. Stored in tenant settings under ``opportunity_funnel`` (a list of stages); the
product default below applies where the key is absent or unreadable.

Two stages keep fixed meaning in every funnel, because contracts, orders and reports rely on
them: ``won`` (probability 100) and ``lost`` (probability 0) are final and set the outcome; any
open stage may move to ``lost``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.opportunities.models import STAGE_KEY_LENGTH, OpportunityOutcome

SETTING = "opportunity_funnel"
WON, LOST = "won", "lost"
TERMINAL = {WON: (OpportunityOutcome.won, 100), LOST: (OpportunityOutcome.lost, 0)}
MAX_STAGES = 20
_KEY = re.compile(rf"^[a-z][a-z0-9_]{{0,{STAGE_KEY_LENGTH - 1}}}$")


@dataclass(frozen=True, slots=True)
class Stage:
    key: str
    name: str
    probability: int
    next: tuple[str, ...]

    @property
    def outcome(self) -> OpportunityOutcome:
        return TERMINAL[self.key][0] if self.key in TERMINAL else OpportunityOutcome.open

    def as_setting(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "probability": self.probability,
            "next": list(self.next),
        }


@dataclass(frozen=True, slots=True)
class Funnel:
    stages: tuple[Stage, ...]

    def get(self, key: str) -> Stage | None:
        return next((s for s in self.stages if s.key == key), None)

    @property
    def first(self) -> Stage:
        """Where a new opportunity starts unless told otherwise."""
        return next(s for s in self.stages if s.outcome is OpportunityOutcome.open)

    def allows(self, current: str, new: str) -> bool:
        """Staying put is no move; lost is open to every open stage; won and lost are final.
        From a stage the funnel no longer has, any stage of the funnel is a way back in."""
        if current == new:
            return True
        if self.get(new) is None:
            return False
        stage = self.get(current)
        if stage is None:
            return current not in TERMINAL
        if stage.outcome is not OpportunityOutcome.open:
            return False
        return new == LOST or new in stage.next

    def as_setting(self) -> list[dict[str, Any]]:
        return [s.as_setting() for s in self.stages]


DEFAULT = Funnel(
    (
        Stage("qualification", "Qualification", 10, ("needs_analysis",)),
        Stage("needs_analysis", "Needs analysis", 25, ("proposal", "qualification")),
        Stage("proposal", "Proposal", 50, ("negotiation", "needs_analysis")),
        Stage("negotiation", "Negotiation", 75, ("won", "proposal")),
        Stage(WON, "Won", 100, ()),
        Stage(LOST, "Lost", 0, ()),
    )
)


def parse(stages: Sequence[Mapping[str, Any]], field: str = "stages") -> Funnel:
    """A funnel from its stored or submitted form, every problem a field error
    (``stages.<i>.<name>``)."""
    errors: list[FieldError] = []

    def bad(path: str, code: ErrorCode, message: str) -> None:
        errors.append(FieldError(f"{field}.{path}" if path else field, code, message))

    if not isinstance(stages, Sequence) or isinstance(stages, str | bytes):
        raise DomainError.one(field, ErrorCode.INVALID, "a list of stages")
    if len(stages) > MAX_STAGES:
        raise DomainError.one(field, ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_STAGES} stages")
    parsed: list[tuple[int, Stage]] = []
    seen: set[str] = set()
    for i, raw in enumerate(stages):
        if not isinstance(raw, Mapping):
            bad(str(i), ErrorCode.INVALID, "a stage object")
            continue
        key = raw.get("key")
        name = raw.get("name")
        probability = raw.get("probability")
        nexts = raw.get("next") or []
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            bad(f"{i}.key", ErrorCode.INVALID, "lower-case letters, digits and _, at most 40")
            continue
        if key in seen:
            bad(f"{i}.key", ErrorCode.DUPLICATE, "each stage key once")
            continue
        seen.add(key)
        if not isinstance(name, str) or not name.strip():
            bad(f"{i}.name", ErrorCode.REQUIRED, "required")
            name = key
        elif len(name) > 100:
            bad(f"{i}.name", ErrorCode.TOO_LONG, "at most 100 characters")
        if (
            not isinstance(probability, int)
            or isinstance(probability, bool)
            or not 0 <= probability <= 100
        ):
            bad(f"{i}.probability", ErrorCode.INVALID, "a whole percentage, 0–100")
            probability = 0
        if (
            not isinstance(nexts, Sequence)
            or isinstance(nexts, str | bytes)
            or not all(isinstance(n, str) for n in nexts)
        ):
            bad(f"{i}.next", ErrorCode.INVALID, "a list of stage keys")
            nexts = []
        parsed.append((i, Stage(key, name.strip(), probability, tuple(dict.fromkeys(nexts)))))
    keys = {s.key for _, s in parsed}
    for index, stage in parsed:
        if stage.key in TERMINAL:
            want = TERMINAL[stage.key][1]
            if stage.probability != want:
                bad(f"{index}.probability", ErrorCode.INVALID, f"{stage.key} is {want}%")
            if stage.next:
                bad(f"{index}.next", ErrorCode.INVALID, f"{stage.key} is final")
            continue
        for target in stage.next:
            if target not in keys or target == stage.key:
                bad(f"{index}.next", ErrorCode.INVALID, f"no stage {target!r} to move to")
    for terminal in TERMINAL:
        if terminal not in keys and not any(e.field == field for e in errors):
            bad("", ErrorCode.REQUIRED, f"the funnel must keep the {terminal!r} stage")
    if not any(s.key not in TERMINAL for _, s in parsed):
        bad("", ErrorCode.REQUIRED, "at least one open stage")
    if errors:
        raise DomainError(errors)
    return Funnel(tuple(s for _, s in parsed))


def of(settings: Mapping[str, Any]) -> Funnel:
    """The company's funnel; the product default when unset or unreadable (settings written
    outside ``set_funnel`` must not break every opportunity write)."""
    stored = settings.get(SETTING)
    if stored is None:
        return DEFAULT
    try:
        return parse(stored)
    except DomainError:
        return DEFAULT
