"""Contract mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.contracts import inputs as I
from crm_api.contracts.queries import LIST, base
from crm_api.contracts.types import Contract
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.contracts import service
from crm_core.contracts.models import Contract as Row
from crm_core.identity.principal import Principal


@strawberry.type
class ContractPayload:
    contract: Contract | None
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

    create_contracts = create_many_under_customer_field(
        type_name="Contract",
        plural="contracts",
        create_input=I.CreateContractInput,
        gql_type=Contract,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: Contract.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="contract:create",
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

    delete_contract, restore_contract, destroy_contract = lifecycle_fields(
        type_name="Contract",
        payload=ContractPayload,
        destroy_payload=DestroyContractPayload,
        convert=lambda info, row: Contract.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="contract",
        restore_description="Refused while another live contract has its number.",
        destroy_description="Permanent delete, with its deliveries; its orders stay.",
    )
