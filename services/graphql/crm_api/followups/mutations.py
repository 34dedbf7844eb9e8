"""Follow-up mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.followups import inputs as I
from crm_api.followups.queries import LIST, base
from crm_api.followups.types import FollowUp
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.followups import service
from crm_core.followups.models import FollowUp as Row
from crm_core.identity.principal import Principal


@strawberry.type
class FollowUpPayload:
    follow_up: FollowUp | None
    errors: list[UserError]


@strawberry.type
class DestroyFollowUpPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "FollowUp") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> FollowUpPayload:
    row, errors = result
    return FollowUpPayload(
        follow_up=FollowUp.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class FollowUpMutations:
    @strawberry.mutation(extensions=requires("followup:create"))
    async def create_follow_up(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateFollowUpInput
    ) -> FollowUpPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(session, who, customer_pk, data)

        return _payload(await run(info, work))

    @strawberry.mutation(extensions=requires("followup:update"))
    async def update_follow_up(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateFollowUpInput,
        version: int | None = None,
    ) -> FollowUpPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    create_follow_ups = create_many_under_customer_field(
        type_name="FollowUp",
        plural="followUps",
        create_input=I.CreateFollowUpInput,
        gql_type=FollowUp,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: FollowUp.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="followup:create",
    )
    update_follow_ups = update_many_field(
        type_name="FollowUp",
        plural="followUps",
        lists=LIST,
        filter_input=I.FollowUpFilter,
        update_input=I.UpdateFollowUpInput,
        gql_type=FollowUp,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: FollowUp.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="followup:update",
    )

    delete_follow_up, restore_follow_up, destroy_follow_up = lifecycle_fields(
        type_name="FollowUp",
        payload=FollowUpPayload,
        destroy_payload=DestroyFollowUpPayload,
        convert=lambda info, row: FollowUp.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="followup",
    )
