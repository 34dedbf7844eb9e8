"""The company's deduplication settings (tenant settings key ``dedup``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SETTING = "dedup"
Threshold = Annotated[float, Field(ge=0.5, le=1.0)]


class DedupSettings(BaseModel):
    """``auto_merge_threshold``: pairs the scan scores at or above it are merged without a person
    (null: never; a merge can still be undone). ``undo_window_days``: how long a merge can be
    undone. ``min_score``: pairs below it are not put in the review queue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auto_merge_threshold: Threshold | None = None
    undo_window_days: Annotated[int, Field(ge=0, le=3650)] = 30
    min_score: Annotated[float, Field(ge=0.1, le=1.0)] = 0.5


class DedupSettingsFields(BaseModel):
    """A partial update: what is left out keeps its value; null clears the threshold."""

    model_config = ConfigDict(extra="forbid")

    auto_merge_threshold: Threshold | None = None
    undo_window_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    min_score: Annotated[float, Field(ge=0.1, le=1.0)] | None = None


def settings_from(tenant_settings: dict[str, Any]) -> DedupSettings:
    """The stored settings; a malformed stored value falls back to the product defaults."""
    stored = tenant_settings.get(SETTING)
    if not isinstance(stored, dict):
        return DedupSettings()
    try:
        return DedupSettings.model_validate(stored)
    except ValidationError:
        return DedupSettings()
