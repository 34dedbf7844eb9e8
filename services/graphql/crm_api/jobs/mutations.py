"""Job mutations: cancel a queued or running job; re-run a failed or dead one."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.jobs.types import Job
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_core.identity.principal import Principal
from crm_core.jobs import service
from crm_core.jobs.models import Job as Row


@strawberry.type
class JobPayload:
    job: Job | None
    errors: list[UserError]


def _payload(result: tuple[Row | None, list[UserError]]) -> JobPayload:
    row, errors = result
    return JobPayload(job=Job.from_model(row) if row is not None else None, errors=errors)


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        description="A queued job is cancelled at once; a running one stops at its next check "
        "and ends `CANCELLED`. Your own jobs, or any with `job:manage`.",
        extensions=requires("job:read"),
    )
    async def cancel_job(self, info: Info, id: strawberry.ID) -> JobPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.cancel(session, who, from_global_id(id, expect="Job")[1])

        return _payload(await run(info, work, prefix=""))

    @strawberry.mutation(
        description="Run a `FAILED` or `DEAD` job again from its first attempt.",
        extensions=requires("job:read"),
    )
    async def retry_job(self, info: Info, id: strawberry.ID) -> JobPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.retry(session, who, from_global_id(id, expect="Job")[1])

        return _payload(await run(info, work, prefix=""))
