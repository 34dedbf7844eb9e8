"""Pool inputs."""

from __future__ import annotations

import strawberry
from strawberry import UNSET


@strawberry.input(description="Fields left out keep their value; null clears a limit.")
class PoolRulesInput:
    reclaim_after_days: int | None = strawberry.field(
        default=UNSET, description="≥ 1, or null to turn automatic reclaim off."
    )
    max_owned: int | None = strawberry.field(default=UNSET, description="≥ 1, or null: no limit.")
    cooldown_days: int | None = strawberry.field(default=UNSET, description="≥ 0.")
