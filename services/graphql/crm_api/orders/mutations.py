"""Order mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.orders import inputs as I
from crm_api.orders.queries import LIST, base
from crm_api.orders.types import Order
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_core.errors import DomainError, FieldError
from crm_core.identity.principal import Principal
from crm_core.orders import service
from crm_core.orders.models import Order as Row

MAX_BATCH = 100


@strawberry.type
class OrderPayload:
    order: Order | None
    errors: list[UserError]


@strawberry.type
class OrdersPayload:
    orders: list[Order]
    errors: list[UserError]


@strawberry.type
class DestroyOrderPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id", expect: str = "Order") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def order_data(input: I.OrderFieldsInput) -> dict[str, Any]:
    """Input data with the lines' product ids resolved, errors naming ``lines.N.productId``."""
    data = input_data(input, id_fields=I.ID_FIELDS)
    if isinstance(input.lines, list):
        lines = []
        for i, line in enumerate(input.lines):
            try:
                lines.append(input_data(line, id_fields={"product_id": "Product"}))
            except DomainError as exc:
                raise DomainError(
                    [FieldError(f"lines.{i}.{e.field}", e.code, e.message) for e in exc.errors]
                ) from None
        data["lines"] = lines
    return data


def _line_keys(data: dict[str, Any]) -> dict[str, Any]:
    """Plain input data (as a bulk update gets it) with the lines' product ids resolved, errors
    naming ``lines.N.productId``; new line dicts, as every record gets the same input."""
    if isinstance(data.get("lines"), list):
        data = {
            **data,
            "lines": [
                {
                    **line,
                    "product_id": from_global_id(
                        str(line["product_id"]), field=f"lines.{i}.product_id", expect="Product"
                    )[1],
                }
                for i, line in enumerate(data["lines"])
            ],
        }
    return data


def _payload(result: tuple[Row | None, list[UserError]]) -> OrderPayload:
    row, errors = result
    return OrderPayload(order=Order.from_model(row) if row is not None else None, errors=errors)


@strawberry.type
class OrderMutations:
    @strawberry.mutation(extensions=requires("order:create"))
    async def create_order(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateOrderInput
    ) -> OrderPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            return await service.create(session, who, customer_pk, order_data(input))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"Several orders of one customer; all or nothing; at most {MAX_BATCH}.",
        extensions=requires("order:create"),
    )
    async def create_orders(
        self, info: Info, customer_id: strawberry.ID, inputs: list[I.CreateOrderInput]
    ) -> OrdersPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            customer_pk = _pk(customer_id, "customer_id", "Customer")
            data = []
            for i, item in enumerate(inputs):
                try:
                    data.append(order_data(item))
                except DomainError as exc:
                    raise DomainError(
                        [FieldError(f"{i}.{e.field}", e.code, e.message) for e in exc.errors]
                    ) from None
            return await service.create_many(session, who, customer_pk, data)

        rows, errors = await run(info, work, prefix="inputs")
        return OrdersPayload(orders=[Order.from_model(r) for r in rows or []], errors=errors)

    @strawberry.mutation(extensions=requires("order:update"))
    async def update_order(
        self, info: Info, id: strawberry.ID, input: I.UpdateOrderInput, version: int | None = None
    ) -> OrderPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.update(
                session, who, _pk(id), order_data(input), expected_version=version
            )

        return _payload(await run(info, work))

    update_orders = update_many_field(
        type_name="Order",
        plural="orders",
        lists=LIST,
        filter_input=I.OrderFilter,
        update_input=I.UpdateOrderInput,
        gql_type=Order,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, _line_keys(data), expected_version=None
        ),
        convert=lambda info, row: Order.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="order:update",
    )

    @strawberry.mutation(
        description="Soft delete: restorable.", extensions=requires("order:delete")
    )
    async def delete_order(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> OrderPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.soft_delete(session, who, _pk(id), expected_version=version)

        return _payload(await run(info, work))

    @strawberry.mutation(
        description="Refused while another live order has its number.",
        extensions=requires("order:restore"),
    )
    async def restore_order(self, info: Info, id: strawberry.ID) -> OrderPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.restore(session, who, _pk(id))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description="Permanent delete, with its lines, payments and refunds.",
        extensions=requires("order:destroy"),
    )
    async def destroy_order(self, info: Info, id: strawberry.ID) -> DestroyOrderPayload:
        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            return await service.destroy(session, who, _pk(id))

        destroyed, errors = await run(info, work)
        return DestroyOrderPayload(destroyed_id=id if destroyed else None, errors=errors)
