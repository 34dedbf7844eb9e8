"""Contract mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.contracts import inputs as I
from crm_api.contracts.queries import LIST, base
from crm_api.contracts.types import Contract
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_core.contracts import service
from crm_core.contracts.models import Contract as Row
from crm_core.identity.principal import Principal

MAX_BATCH = 100


@strawberry.type
class ContractPayload:
    contract: Contract | None
    errors: list[UserError]


@strawberry.type
class ContractsPayload:
    contracts: list[Contract]
    errors: list[UserError]


@strawberry.type
class DestroyContractPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "Contract") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> ContractPayload:
    row, errors = result
    return ContractPayload(
        contract=Contract.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class ContractMutations:
    @strawberry.mutation(extensions=requires("contract:create"))
    async def create_contract(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateContractInput
    ) -> ContractPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(session, who, customer_pk, data)

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"Several contracts of one customer; all or nothing; at most {MAX_BATCH}.",
        extensions=requires("contract:create"),
    )
    async def create_contracts(
        self, info: Info, customer_id: strawberry.ID, inputs: list[I.CreateContractInput]
    ) -> ContractsPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = [input_data(i, id_fields=I.ID_FIELDS) for i in inputs]
            return await service.create_many(session, who, customer_pk, data)

        rows, errors = await run(info, work, prefix="inputs")
        return ContractsPayload(
            contracts=[Contract.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(extensions=requires("contract:update"))
    async def update_contract(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateContractInput,
        version: int | None = None,
    ) -> ContractPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    update_contracts = update_many_field(
        type_name="Contract",
        plural="contracts",
        lists=LIST,
        filter_input=I.ContractFilter,
        update_input=I.UpdateContractInput,
        gql_type=Contract,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: Contract.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="contract:update",
    )

    @strawberry.mutation(
        description="Soft delete: restorable.", extensions=requires("contract:delete")
    )
    async def delete_contract(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> ContractPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.soft_delete(session, who, _pk(id), expected_version=version)

        return _payload(await run(info, work))

    @strawberry.mutation(
        description="Refused while another live contract has its number.",
        extensions=requires("contract:restore"),
    )
    async def restore_contract(self, info: Info, id: strawberry.ID) -> ContractPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.restore(session, who, _pk(id))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description="Permanent delete, with its deliveries; its orders stay.",
        extensions=requires("contract:destroy"),
    )
    async def destroy_contract(self, info: Info, id: strawberry.ID) -> DestroyContractPayload:
        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            return await service.destroy(session, who, _pk(id))

        destroyed, errors = await run(info, work)
        return DestroyContractPayload(destroyed_id=id if destroyed else None, errors=errors)
