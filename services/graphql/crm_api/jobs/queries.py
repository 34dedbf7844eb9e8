"""Job queries: admins (``job:manage``) see every job of the company, others the ones they started."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select

from crm_api.context import Info
from crm_api.errors import as_graphql_errors
from crm_api.jobs import inputs as I
from crm_api.jobs.types import FIELDS, HIDDEN, Job
from crm_api.listing import ListArgs, list_connection, list_spec
from crm_api.permissions import requires
from crm_api.relay import Connection, from_global_id
from crm_core.jobs import service
from crm_core.query.pagination import SortKey

LIST = list_spec(
    FIELDS,
    HIDDEN,
    default_order=(SortKey("created_at", descending=True), SortKey("id", descending=True)),
    id_fields=I.ID_FIELDS,
)


async def load_job(info: Info, pk: Any) -> Job | None:
    principal = info.context.require_principal()
    async with info.context.tenant_db.read() as session:
        row = await service.get(session, principal, pk)
    return Job.from_model(row) if row is not None else None


@strawberry.type
class JobQueries:
    @strawberry.field(
        description="One job by global id; null when missing or not yours.",
        extensions=requires("job:read"),
    )
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        async def load() -> Job | None:
            return await load_job(info, from_global_id(id, expect="Job")[1])

        return await as_graphql_errors(load)

    @strawberry.field(
        description="Jobs, newest first unless ordered; keyset-paginated. Filter on "
        "`status: {eq: DEAD}` for the dead letters.",
        extensions=requires("job:read"),
    )
    async def jobs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.JobFilter | None = None,
        order_by: list[I.JobOrderBy] | None = None,
    ) -> Connection[Job]:
        principal = info.context.require_principal()

        def base() -> Select[Any]:
            return service.base_select(principal)  # type: ignore[no-any-return]

        args = ListArgs(first, after, last, before, filter, order_by, True)
        return await list_connection(info, LIST, args, base, Job.from_model)
