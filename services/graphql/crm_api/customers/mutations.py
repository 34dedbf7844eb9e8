"""Customer mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.customers import inputs as I
from crm_api.customers.queries import LIST, base
from crm_api.customers.types import Customer
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.customers import service
from crm_core.customers.models import Customer as Row
from crm_core.identity.principal import Principal

MAX_BATCH = 100


@strawberry.type
class CustomerPayload:
    customer: Customer | None
    errors: list[UserError]


@strawberry.type
class CustomersPayload:
    customers: list[Customer]
    errors: list[UserError]


@strawberry.type
class TransferCustomersPayload:
    customers: list[Customer]
    errors: list[UserError]


@strawberry.type
class DestroyCustomerPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect="Customer")[1]


def _payload(info: Info, result: tuple[Row | None, list[UserError]]) -> CustomerPayload:
    row, errors = result
    mask = info.context.mask_personal
    return CustomerPayload(
        customer=Customer.from_model(row, mask) if row is not None else None, errors=errors
    )


async def _update_one(
    info: Info, session: AsyncSession, who: Principal, pk: uuid.UUID, data: dict[str, Any]
) -> Row:
    return await service.update(
        session,
        who,
        pk,
        data,
        expected_version=None,
        default_region=info.context.settings.default_phone_region,
        cipher=await info.context.cipher(),
    )


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(extensions=requires("customer:create"))
    async def create_customer(self, info: Info, input: I.CreateCustomerInput) -> CustomerPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.create(
                session, who, data, default_region=region, cipher=await info.context.cipher()
            )

        return _payload(info, await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.", extensions=requires("customer:create")
    )
    async def create_customers(
        self, info: Info, inputs: list[I.CreateCustomerInput]
    ) -> CustomersPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            data = [input_data(i, id_fields=I.ID_FIELDS) for i in inputs]
            return await service.create_many(
                session, who, data, default_region=region, cipher=await info.context.cipher()
            )

        rows, errors = await run(info, work, prefix="inputs")
        return CustomersPayload(
            customers=[Customer.from_model(r, info.context.mask_personal) for r in rows or []],
            errors=errors,
        )

    @strawberry.mutation(extensions=requires("customer:update"))
    async def update_customer(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateCustomerInput,
        version: int | None = None,
    ) -> CustomerPayload:
        region = info.context.settings.default_phone_region

        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(
                session,
                who,
                _pk(id),
                data,
                expected_version=version,
                default_region=region,
                cipher=await info.context.cipher(),
            )

        return _payload(info, await run(info, work))

    update_customers = update_many_field(
        type_name="Customer",
        plural="customers",
        lists=LIST,
        filter_input=I.CustomerFilter,
        update_input=I.UpdateCustomerInput,
        gql_type=Customer,
        make_base=base,
        update_one=_update_one,
        convert=lambda info, row: Customer.from_model(row, info.context.mask_personal),
        id_fields=I.ID_FIELDS,
        permission="customer:update",
    )

    delete_customer, restore_customer, destroy_customer = lifecycle_fields(
        type_name="Customer",
        payload=CustomerPayload,
        destroy_payload=DestroyCustomerPayload,
        convert=lambda info, row: Customer.from_model(row, info.context.mask_personal),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="customer",
        destroy_description="Permanent delete, with the customer's contacts.",
    )

    @strawberry.mutation(
        description="Give customers to another owner (all or nothing, at most 500).",
        extensions=requires("customer:transfer"),
    )
    async def transfer_customers(
        self, info: Info, ids: list[strawberry.ID], to_owner_id: strawberry.ID
    ) -> TransferCustomersPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            pks = [
                from_global_id(i, field=f"ids.{n}", expect="Customer")[1] for n, i in enumerate(ids)
            ]
            owner = from_global_id(to_owner_id, field="toOwnerId", expect="User")[1]
            return await service.transfer(session, who, pks, owner)

        rows, errors = await run(info, work, prefix="")
        mask = info.context.mask_personal
        return TransferCustomersPayload(
            customers=[Customer.from_model(r, mask) for r in rows or []], errors=errors
        )
