"""Contract delivery mutations (permissions of the contract: deliveries are part of it)."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.contracts import inputs as I
from crm_api.contracts.queries import DELIVERY_LIST, delivery_base
from crm_api.contracts.types import ContractDelivery
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.contracts import deliveries as service
from crm_core.contracts.models import ContractDelivery as Row
from crm_core.identity.principal import Principal

MAX_BATCH = 100


@strawberry.type
class ContractDeliveryPayload:
    contract_delivery: ContractDelivery | None
    errors: list[UserError]


@strawberry.type
class ContractDeliveriesPayload:
    contract_deliveries: list[ContractDelivery]
    errors: list[UserError]


@strawberry.type
class DestroyContractDeliveryPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "ContractDelivery") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> ContractDeliveryPayload:
    row, errors = result
    return ContractDeliveryPayload(
        contract_delivery=ContractDelivery.from_model(row) if row is not None else None,
        errors=errors,
    )


@strawberry.type
class ContractDeliveryMutations:
    @strawberry.mutation(extensions=requires("contract:update"))
    async def create_contract_delivery(
        self, info: Info, contract_id: strawberry.ID, input: I.CreateContractDeliveryInput
    ) -> ContractDeliveryPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            contract_pk = _pk(contract_id, "contract_id", "Contract")
            return await service.create_delivery(session, who, contract_pk, input_data(input))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"A contract's delivery schedule; all or nothing; at most {MAX_BATCH}.",
        extensions=requires("contract:update"),
    )
    async def create_contract_deliveries(
        self, info: Info, contract_id: strawberry.ID, inputs: list[I.CreateContractDeliveryInput]
    ) -> ContractDeliveriesPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            contract_pk = _pk(contract_id, "contract_id", "Contract")
            data = [input_data(i) for i in inputs]
            return await service.create_deliveries(session, who, contract_pk, data)

        rows, errors = await run(info, work, prefix="inputs")
        return ContractDeliveriesPayload(
            contract_deliveries=[ContractDelivery.from_model(r) for r in rows or []],
            errors=errors,
        )

    @strawberry.mutation(extensions=requires("contract:update"))
    async def update_contract_delivery(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateContractDeliveryInput,
        version: int | None = None,
    ) -> ContractDeliveryPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.update_delivery(
                session, who, _pk(id), input_data(input), expected_version=version
            )

        return _payload(await run(info, work))

    update_contract_deliveries = update_many_field(
        type_name="ContractDelivery",
        plural="contractDeliveries",
        lists=DELIVERY_LIST,
        filter_input=I.ContractDeliveryFilter,
        update_input=I.UpdateContractDeliveryInput,
        gql_type=ContractDelivery,
        make_base=delivery_base,
        update_one=lambda info, session, who, pk, data: service.update_delivery(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: ContractDelivery.from_model(row),
        id_fields=I.DELIVERY_ID_FIELDS,
        permission="contract:update",
    )

    delete_contract_delivery, restore_contract_delivery, destroy_contract_delivery = (
        lifecycle_fields(
            type_name="ContractDelivery",
            payload=ContractDeliveryPayload,
            destroy_payload=DestroyContractDeliveryPayload,
            convert=lambda info, row: ContractDelivery.from_model(row),
            soft_delete=service.soft_delete_delivery,
            restore=service.restore_delivery,
            destroy=service.destroy_delivery,
            permission="contract",
            restore_description="Only while it still falls within the contract's validity.",
        )
    )
