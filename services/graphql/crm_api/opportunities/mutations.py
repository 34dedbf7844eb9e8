"""Opportunity mutations, and the funnel's: thin — parse input, call the service, map the result."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.opportunities import inputs as I
from crm_api.opportunities.queries import LIST, base
from crm_api.opportunities.types import Opportunity, OpportunityStage
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.identity.principal import Principal
from crm_core.opportunities import service
from crm_core.opportunities.funnel import Funnel
from crm_core.opportunities.models import Opportunity as Row


@strawberry.type
class OpportunityPayload:
    opportunity: Opportunity | None
    errors: list[UserError]


@strawberry.type
class DestroyOpportunityPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class OpportunityFunnelPayload:
    stages: list[OpportunityStage] | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "Opportunity") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _data(obj: Any) -> dict[str, Any]:
    """The input as plain data, with the lines' product ids turned into keys."""
    return _line_keys(input_data(obj, id_fields=I.ID_FIELDS))


def _line_keys(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the lines' product ids turned into keys (new line dicts: a bulk update
    hands the same input to every record)."""
    if isinstance(data.get("products"), list):
        data = {
            **data,
            "products": [
                {
                    **line,
                    "product_id": _pk(line["product_id"], f"products.{i}.product_id", "Product"),
                }
                for i, line in enumerate(data["products"])
            ],
        }
    return data


def _payload(result: tuple[Row | None, list[UserError]]) -> OpportunityPayload:
    row, errors = result
    return OpportunityPayload(
        opportunity=Opportunity.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class OpportunityMutations:
    @strawberry.mutation(extensions=requires("opportunity:create"))
    async def create_opportunity(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateOpportunityInput
    ) -> OpportunityPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            return await service.create(session, who, customer_pk, _data(input))

        return _payload(await run(info, work))

    create_opportunities = create_many_under_customer_field(
        type_name="Opportunity",
        plural="opportunities",
        create_input=I.CreateOpportunityInput,
        gql_type=Opportunity,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: Opportunity.from_model(row),
        data_of=_data,
        permission="opportunity:create",
    )

    @strawberry.mutation(
        description="`stage` moves along the company's funnel; `products` replaces the lines.",
        extensions=requires("opportunity:update"),
    )
    async def update_opportunity(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateOpportunityInput,
        version: int | None = None,
    ) -> OpportunityPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.update(
                session, who, _pk(id), _data(input), expected_version=version
            )

        return _payload(await run(info, work))

    update_opportunities = update_many_field(
        type_name="Opportunity",
        plural="opportunities",
        lists=LIST,
        filter_input=I.OpportunityFilter,
        update_input=I.UpdateOpportunityInput,
        gql_type=Opportunity,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, _line_keys(data), expected_version=None
        ),
        convert=lambda info, row: Opportunity.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="opportunity:update",
    )

    delete_opportunity, restore_opportunity, destroy_opportunity = lifecycle_fields(
        type_name="Opportunity",
        payload=OpportunityPayload,
        destroy_payload=DestroyOpportunityPayload,
        convert=lambda info, row: Opportunity.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="opportunity",
        destroy_description="Permanent delete, with its lines and stage history.",
    )

    @strawberry.mutation(
        description="Replace the company's sales funnel. Keys are unique; `won` (100%) and "
        "`lost` (0%) stay and are final; stages that open opportunities stand in stay.",
        extensions=requires("settings:manage"),
    )
    async def set_opportunity_funnel(
        self, info: Info, stages: list[I.OpportunityStageInput]
    ) -> OpportunityFunnelPayload:
        async def work(session: AsyncSession, who: Principal) -> Funnel:
            return await service.set_funnel(session, who, [dataclasses.asdict(s) for s in stages])

        funnel, errors = await run(info, work, prefix="")
        return OpportunityFunnelPayload(
            stages=[OpportunityStage.from_stage(s) for s in funnel.stages] if funnel else None,
            errors=errors,
        )
