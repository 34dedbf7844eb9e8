"""Survey sends, responses and statistics over GraphQL, and ``sendSurvey``.

Reading them needs ``survey:results`` (owner, admin, manager): responses are customers' opinions
of named agents. Everything is narrowed to the customers in the caller's data scope, like every
other customer record; outside it a send or response does not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.errors import UserError, as_graphql_errors
from crm_api.listing import ListArgs, list_connection, list_spec
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import Connection, from_global_id, to_global_id
from crm_api.surveys import send_inputs as I
from crm_api.surveys.send_types import (
    RESPONSE_FIELDS,
    RESPONSE_HIDDEN,
    SEND_FIELDS,
    SEND_HIDDEN,
    SurveyResponse,
    SurveySend,
)
from crm_core.customers import repository as customers_repo
from crm_core.errors import DomainError, ErrorCode
from crm_core.identity.principal import Principal
from crm_core.query.pagination import SortKey
from crm_core.surveys import sending, stats
from crm_core.surveys.models import SurveyResponse as ResponseRow
from crm_core.surveys.models import SurveySend as SendRow
from crm_core.surveys.models import SurveyTrigger

SEND_LIST = list_spec(
    SEND_FIELDS,
    SEND_HIDDEN,
    default_order=(SortKey("created_at", descending=True), SortKey("id", descending=True)),
    id_fields=I.SEND_ID_FIELDS,
    personal=frozenset({"email"}),
)
RESPONSE_LIST = list_spec(
    RESPONSE_FIELDS,
    RESPONSE_HIDDEN,
    default_order=(SortKey("submitted_at", descending=True), SortKey("id", descending=True)),
    id_fields=I.RESPONSE_ID_FIELDS,
    measures=("csat", "nps"),
)


def _sends(principal: Principal) -> Select[Any]:
    return select(SendRow).where(
        SendRow.customer_id.in_(customers_repo.visible_ids(principal.data_scope))
    )


def _responses(principal: Principal) -> Select[Any]:
    return select(ResponseRow).where(
        ResponseRow.customer_id.in_(customers_repo.visible_ids(principal.data_scope))
    )


@strawberry.type(description="Satisfaction of one group of survey responses.")
class SurveyStatsRow:
    key: str | None = strawberry.field(
        description="Customer or agent id (global), product name, or month (YYYY-MM); null for "
        "responses without one (a periodic survey has no product or agent)."
    )
    label: str | None = strawberry.field(description="Customer or agent name; else the key.")
    responses: int
    csat_count: int = strawberry.field(description="Responses with a CSAT answer.")
    csat_average: float | None = strawberry.field(description="Average CSAT (1–5).")
    satisfied_percent: float | None = strawberry.field(
        description="Share of CSAT answers that are 4 or 5, in percent."
    )
    nps_count: int
    promoters: int = strawberry.field(description="NPS answers of 9 or 10.")
    detractors: int = strawberry.field(description="NPS answers of 0 to 6.")
    nps: float | None = strawberry.field(
        description="Net promoter score: promoters − detractors, in percent of NPS answers."
    )


@strawberry.type
class SendSurveyPayload:
    sends: list[SurveySend]
    skipped: list[strawberry.ID] = strawberry.field(
        description="Customers already asked with this template today (no second mail)."
    )
    errors: list[UserError]


def _key_id(group_by: stats.StatsGroupBy, key: str | None) -> str | None:
    if key is None:
        return None
    if group_by is stats.StatsGroupBy.customer:
        return to_global_id("Customer", uuid.UUID(key))
    if group_by is stats.StatsGroupBy.agent:
        return to_global_id("User", uuid.UUID(key))
    return key


@strawberry.type
class SurveySendQueries:
    @strawberry.field(
        description="Survey sends, newest first unless ordered; keyset-paginated.",
        extensions=requires("survey:results"),
    )
    async def survey_sends(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.SurveySendFilter | None = None,
        order_by: list[I.SurveySendOrderBy] | None = None,
    ) -> Connection[SurveySend]:
        principal = info.context.require_principal()
        mask = info.context.mask_personal
        args = ListArgs(first, after, last, before, filter, order_by, True)
        return await list_connection(
            info,
            SEND_LIST,
            args,
            lambda: _sends(principal),
            lambda row: SurveySend.from_model(row, mask),
        )

    @strawberry.field(
        description="Survey responses, newest first unless ordered; keyset-paginated; "
        '`aggregates(fields: ["csat", "nps"])` totals them.',
        extensions=requires("survey:results"),
    )
    async def survey_responses(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: I.SurveyResponseFilter | None = None,
        order_by: list[I.SurveyResponseOrderBy] | None = None,
    ) -> Connection[SurveyResponse]:
        principal = info.context.require_principal()
        args = ListArgs(first, after, last, before, filter, order_by, True)
        return await list_connection(
            info, RESPONSE_LIST, args, lambda: _responses(principal), SurveyResponse.from_model
        )

    @strawberry.field(
        description="CSAT (average, % satisfied) and NPS per customer, product, agent or month "
        f"(at most {stats.MAX_GROUPS} groups, the largest first).",
        extensions=requires("survey:results"),
    )
    async def survey_stats(
        self,
        info: Info,
        group_by: I.SurveyStatsGroupBy,
        filter: I.SurveyStatsFilter | None = None,
    ) -> list[SurveyStatsRow]:
        principal = info.context.require_principal()
        by = stats.StatsGroupBy(group_by.value)

        async def load() -> list[SurveyStatsRow]:
            flt = stats.StatsFilter()
            if filter is not None:
                flt = stats.StatsFilter(
                    template_id=(
                        from_global_id(filter.template, expect="SurveyTemplate")[1]
                        if filter.template
                        else None
                    ),
                    trigger=SurveyTrigger(filter.trigger.value) if filter.trigger else None,
                    customer_id=(
                        from_global_id(filter.customer, expect="Customer")[1]
                        if filter.customer
                        else None
                    ),
                    submitted_from=filter.submitted_from,
                    submitted_to=filter.submitted_to,
                )
            async with info.context.tenant_db.read() as session:
                zone = await info.context.tenant_time_zone(session)
                rows = await stats.compute(
                    session, by, flt, scope=principal.data_scope, time_zone=zone
                )
            return [
                SurveyStatsRow(
                    key=_key_id(by, r.key),
                    label=r.label,
                    responses=r.responses,
                    csat_count=r.csat_count,
                    csat_average=r.csat_average,
                    satisfied_percent=r.satisfied_percent,
                    nps_count=r.nps_count,
                    promoters=r.promoters,
                    detractors=r.detractors,
                    nps=r.nps,
                )
                for r in rows
            ]

        return await as_graphql_errors(load)


@strawberry.type
class SurveySendMutations:
    @strawberry.mutation(
        description="Invite customers (in your data scope) to answer a survey now; all or "
        "nothing, bounded (CRM_SURVEYS__MAX_MANUAL_CUSTOMERS). Each gets a mail with a personal "
        "link; one asked with this template today is skipped.",
        extensions=requires("survey:send"),
    )
    async def send_survey(
        self,
        info: Info,
        template_id: strawberry.ID,
        customer_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Customers' global ids.")
        ],
    ) -> SendSurveyPayload:
        ctx = info.context
        cipher = await ctx.cipher()

        async def work(session: AsyncSession, who: Principal) -> sending.ManualResult:
            limit = ctx.settings.surveys.max_manual_customers
            if len(customer_ids) > limit:
                raise DomainError.one(
                    "customer_ids", ErrorCode.LIMIT_EXCEEDED, f"at most {limit} per call"
                )
            template = from_global_id(template_id, field="template_id", expect="SurveyTemplate")
            ids = [
                from_global_id(gid, field=f"customer_ids.{i}", expect="Customer")[1]
                for i, gid in enumerate(customer_ids)
            ]
            return await sending.send_manual(
                session, who, cipher, template[1], ids, ctx.settings.surveys
            )

        result, errors = await run(info, work, prefix="")
        if result is None:
            return SendSurveyPayload(sends=[], skipped=[], errors=errors)
        return SendSurveyPayload(
            sends=[SurveySend.from_model(s, ctx.mask_personal) for s in result.sends],
            skipped=[strawberry.ID(to_global_id("Customer", c)) for c in result.skipped],
            errors=[],
        )
