"""Product mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.products import inputs as I
from crm_api.products.queries import LIST, base
from crm_api.products.types import Product
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.identity.principal import Principal
from crm_core.products import service
from crm_core.products.models import Product as Row

MAX_BATCH = 100


@strawberry.type
class ProductPayload:
    product: Product | None
    errors: list[UserError]


@strawberry.type
class ProductsPayload:
    products: list[Product]
    errors: list[UserError]


@strawberry.type
class DestroyProductPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> uuid.UUID:
    return from_global_id(id, expect="Product")[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> ProductPayload:
    row, errors = result
    return ProductPayload(
        product=Product.from_model(row) if row is not None else None, errors=errors
    )


@strawberry.type
class ProductMutations:
    @strawberry.mutation(extensions=requires("product:create"))
    async def create_product(self, info: Info, input: I.CreateProductInput) -> ProductPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.create(session, who, input_data(input, id_fields=I.ID_FIELDS))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.", extensions=requires("product:create")
    )
    async def create_products(
        self, info: Info, inputs: list[I.CreateProductInput]
    ) -> ProductsPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            data = [input_data(i, id_fields=I.ID_FIELDS) for i in inputs]
            return await service.create_many(session, who, data)

        rows, errors = await run(info, work, prefix="inputs")
        return ProductsPayload(products=[Product.from_model(r) for r in rows or []], errors=errors)

    @strawberry.mutation(extensions=requires("product:update"))
    async def update_product(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateProductInput,
        version: int | None = None,
    ) -> ProductPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            data = input_data(input, id_fields=I.ID_FIELDS)
            return await service.update(session, who, _pk(id), data, expected_version=version)

        return _payload(await run(info, work))

    update_products = update_many_field(
        type_name="Product",
        plural="products",
        lists=LIST,
        filter_input=I.ProductFilter,
        update_input=I.UpdateProductInput,
        gql_type=Product,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: Product.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="product:update",
    )

    delete_product, restore_product, destroy_product = lifecycle_fields(
        type_name="Product",
        payload=ProductPayload,
        destroy_payload=DestroyProductPayload,
        convert=lambda info, row: Product.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="product",
        delete_description="Soft delete: restorable; lines naming it keep it.",
        destroy_description="Permanent delete; refused while opportunity or order lines name it.",
    )
