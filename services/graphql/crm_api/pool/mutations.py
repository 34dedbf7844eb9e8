"""Pool mutations: claim, release, the rules, and reclaim on demand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api import enums as E
from crm_api.context import Info
from crm_api.customers.types import Customer
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.pool import inputs as I
from crm_api.pool.types import PoolRules
from crm_api.relay import from_global_id
from crm_core.customers.models import Customer as Row
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import Principal
from crm_core.pool import service
from crm_core.pool.models import PoolReason
from crm_core.pool.schemas import PoolRules as Rules


@strawberry.type
class PoolCustomersPayload:
    customers: list[Customer]
    errors: list[UserError]


@strawberry.type
class PoolRulesPayload:
    pool_rules: PoolRules | None
    errors: list[UserError]


@strawberry.type
class ReclaimStaleCustomersPayload:
    reclaimed_count: int
    more: bool = strawberry.field(description="True when a batch was full: run it again.")
    errors: list[UserError]


def _pks(ids: list[strawberry.ID]) -> list[uuid.UUID]:
    return [from_global_id(i, field=f"ids.{n}", expect="Customer")[1] for n, i in enumerate(ids)]


def _customers(info: Info, rows: list[Row] | None, errors: list[UserError]) -> PoolCustomersPayload:
    mask = info.context.mask_personal
    return PoolCustomersPayload(
        customers=[Customer.from_model(r, mask) for r in rows or []], errors=errors
    )


@strawberry.type
class PoolMutations:
    @strawberry.mutation(
        description=f"Take customers from the pool for yourself (all or nothing, at most "
        f"{service.MAX_PER_CALL}); the company's max-owned and cooldown rules apply, and each "
        "refusal names its item (`ids.2`). Of two reps claiming one customer at once, exactly "
        "one gets it.",
        extensions=requires("customer:claim"),
    )
    async def claim_customers(self, info: Info, ids: list[strawberry.ID]) -> PoolCustomersPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            if len(ids) > service.MAX_PER_CALL:
                raise DomainError.one(
                    "ids", ErrorCode.LIMIT_EXCEEDED, f"at most {service.MAX_PER_CALL} per call"
                )
            return await service.claim(session, who, _pks(ids))

        rows, errors = await run(info, work, prefix="")
        return _customers(info, rows, errors)

    @strawberry.mutation(
        description="Put customers back in the pool (all or nothing): their owner, or a manager "
        "for customers in the manager's scope.",
        extensions=requires("customer:claim"),
    )
    async def release_customers(
        self,
        info: Info,
        ids: list[strawberry.ID],
        reason: E.PoolReasonEnum = E.PoolReasonEnum.RELEASED,
    ) -> PoolCustomersPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            if len(ids) > service.MAX_PER_CALL:
                raise DomainError.one(
                    "ids", ErrorCode.LIMIT_EXCEEDED, f"at most {service.MAX_PER_CALL} per call"
                )
            return await service.release(session, who, _pks(ids), PoolReason(reason.value))

        rows, errors = await run(info, work, prefix="")
        return _customers(info, rows, errors)

    @strawberry.mutation(
        description="Change the company's pool rules.", extensions=requires("settings:manage")
    )
    async def set_pool_rules(self, info: Info, input: I.PoolRulesInput) -> PoolRulesPayload:
        async def work(session: AsyncSession, who: Principal) -> Rules:
            return await service.set_rules(session, who, input_data(input))

        rules, errors = await run(info, work)
        return PoolRulesPayload(
            pool_rules=PoolRules.from_rules(rules) if rules is not None else None, errors=errors
        )

    @strawberry.mutation(
        description="Return stale customers to the pool now (one bounded batch), as the periodic "
        "job does: owned customers with no interaction and no follow-up for the company's "
        "reclaim period.",
        extensions=requires("settings:manage"),
    )
    async def reclaim_stale_customers(self, info: Info) -> ReclaimStaleCustomersPayload:
        async def work(session: AsyncSession, who: Principal) -> service.ReclaimResult:
            rules = await service.rules(session, who.tenant.id)
            if rules.reclaim_after_days is None:
                raise DomainError.one(
                    None, ErrorCode.INVALID, "automatic reclaim is off (poolRules.reclaimAfterDays)"
                )
            return await service.reclaim_stale(session, who.tenant, datetime.now(UTC), actor=who)

        result, errors = await run(info, work)
        return ReclaimStaleCustomersPayload(
            reclaimed_count=len(result.reclaimed) if result else 0,
            more=bool(result and result.more),
            errors=errors,
        )
