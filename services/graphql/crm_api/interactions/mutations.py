"""Interaction mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.interactions import inputs as I
from crm_api.interactions.queries import LIST, base
from crm_api.interactions.types import Interaction
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.identity.principal import Principal
from crm_core.interactions import service
from crm_core.interactions.models import Interaction as Row


@strawberry.type
class InteractionPayload:
    interaction: Interaction | None
    errors: list[UserError]


@strawberry.type
class DestroyInteractionPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "Interaction") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> InteractionPayload:
    row, errors = result
    return InteractionPayload(
        interaction=Interaction.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class InteractionMutations:
    @strawberry.mutation(extensions=requires("interaction:create"))
    async def create_interaction(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateInteractionInput
    ) -> InteractionPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(session, who, customer_pk, data)

        return _payload(await run(info, work))

    @strawberry.mutation(extensions=requires("interaction:update"))
    async def update_interaction(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateInteractionInput,
        version: int | None = None,
    ) -> InteractionPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    create_interactions = create_many_under_customer_field(
        type_name="Interaction",
        plural="interactions",
        create_input=I.CreateInteractionInput,
        gql_type=Interaction,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: Interaction.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="interaction:create",
    )
    update_interactions = update_many_field(
        type_name="Interaction",
        plural="interactions",
        lists=LIST,
        filter_input=I.InteractionFilter,
        update_input=I.UpdateInteractionInput,
        gql_type=Interaction,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: Interaction.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="interaction:update",
    )

    delete_interaction, restore_interaction, destroy_interaction = lifecycle_fields(
        type_name="Interaction",
        payload=InteractionPayload,
        destroy_payload=DestroyInteractionPayload,
        convert=lambda info, row: Interaction.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="interaction",
    )
