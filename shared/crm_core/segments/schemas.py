"""What a caller may write into a segment (the filter arrives as a spec, checked by compiling)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints


class SegmentFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    filter: dict[str, Any] | None = None
    shared: bool | None = None
