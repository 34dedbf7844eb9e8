"""The company's pool rules (tenant settings key ``pool_rules``) and what a caller may write."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SETTING = "pool_rules"
Days = Annotated[int, Field(ge=1, le=3650)]


class PoolRules(BaseModel):
    """``reclaim_after_days``: owned customers with no interaction and no follow-up for that many
    days go back to the pool (null: never). ``max_owned``: how many customers one rep may own
    before claiming more is refused (null: no limit). ``cooldown_days``: a rep cannot claim back
    a customer reclaimed from them for that many days (0: at once)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reclaim_after_days: Days | None = None
    max_owned: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    cooldown_days: Annotated[int, Field(ge=0, le=3650)] = 30


class PoolRulesFields(BaseModel):
    """A partial update: what is left out keeps its value; null clears a limit."""

    model_config = ConfigDict(extra="forbid")

    reclaim_after_days: Days | None = None
    max_owned: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    cooldown_days: Annotated[int, Field(ge=0, le=3650)] | None = None


def rules_from(tenant_settings: dict[str, Any]) -> PoolRules:
    """The stored rules; a malformed stored value falls back to the product defaults."""
    stored = tenant_settings.get(SETTING)
    if not isinstance(stored, dict):
        return PoolRules()
    try:
        return PoolRules.model_validate(stored)
    except ValidationError:
        return PoolRules()
