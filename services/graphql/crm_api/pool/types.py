"""Pool types: the company's pool rules (the pool's customers are plain Customers)."""

from __future__ import annotations

import strawberry

from crm_core.pool.schemas import PoolRules as Rules


@strawberry.type(description="The company's rules for the shared customer pool (公海).")
class PoolRules:
    reclaim_after_days: int | None = strawberry.field(
        description="Owned customers with no interaction and no follow-up for this many days go "
        "back to the pool; null: never."
    )
    max_owned: int | None = strawberry.field(
        description="How many customers one rep may own before claims are refused; null: no limit."
    )
    cooldown_days: int = strawberry.field(
        description="Days before a rep may claim back a customer reclaimed from them."
    )

    @classmethod
    def from_rules(cls, rules: Rules) -> PoolRules:
        return cls(
            reclaim_after_days=rules.reclaim_after_days,
            max_owned=rules.max_owned,
            cooldown_days=rules.cooldown_days,
        )
