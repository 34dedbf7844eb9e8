"""Order mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import run
from crm_api.orders import inputs as I
from crm_api.orders.queries import LIST, base
from crm_api.orders.types import Order
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.errors import DomainError, FieldError
from crm_core.identity.principal import Principal
from crm_core.orders import service
from crm_core.orders.models import Order as Row


@strawberry.type
class OrderPayload:
    order: Order | None
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

    create_orders = create_many_under_customer_field(
        type_name="Order",
        plural="orders",
        create_input=I.CreateOrderInput,
        gql_type=Order,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: Order.from_model(row),
        data_of=order_data,
        permission="order:create",
    )

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

    delete_order, restore_order, destroy_order = lifecycle_fields(
        type_name="Order",
        payload=OrderPayload,
        destroy_payload=DestroyOrderPayload,
        convert=lambda info, row: Order.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="order",
        restore_description="Refused while another live order has its number.",
        destroy_description="Permanent delete, with its lines, payments and refunds.",
    )
