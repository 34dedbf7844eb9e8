"""Tag mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import update_many_field
from crm_api.context import Info
from crm_api.customers.types import Customer
from crm_api.errors import UserError
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.tags import inputs as I
from crm_api.tags.queries import LIST, base
from crm_api.tags.types import Tag
from crm_api.verbs import lifecycle_fields
from crm_core.customers.models import Customer as CustomerRow
from crm_core.identity.principal import Principal
from crm_core.tags import service
from crm_core.tags.models import Tag as Row

MAX_BATCH = 100


@strawberry.type
class TagPayload:
    tag: Tag | None
    errors: list[UserError]


@strawberry.type
class TagsPayload:
    tags: list[Tag]
    errors: list[UserError]


@strawberry.type
class DestroyTagPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class TagCustomersPayload:
    tag: Tag | None
    customers: list[Customer] = strawberry.field(description="The customers named, as now.")
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id") -> uuid.UUID:
    return from_global_id(id, field=field, expect="Tag")[1]


def _payload(result: tuple[Row | None, list[UserError]]) -> TagPayload:
    row, errors = result
    return TagPayload(tag=Tag.from_model(row) if row is not None else None, errors=errors)


def _customer_pks(ids: list[strawberry.ID]) -> list[uuid.UUID]:
    return [
        from_global_id(i, field=f"customer_ids.{n}", expect="Customer")[1]
        for n, i in enumerate(ids)
    ]


def _tagging_payload(
    info: Info, result: tuple[tuple[Row, list[CustomerRow]] | None, list[UserError]]
) -> TagCustomersPayload:
    done, errors = result
    if done is None:
        return TagCustomersPayload(tag=None, customers=[], errors=errors)
    tag, customers = done
    mask = info.context.mask_personal
    return TagCustomersPayload(
        tag=Tag.from_model(tag),
        customers=[Customer.from_model(c, mask) for c in customers],
        errors=errors,
    )


@strawberry.type
class TagMutations:
    @strawberry.mutation(extensions=requires("tag:create"))
    async def create_tag(self, info: Info, input: I.CreateTagInput) -> TagPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.create(session, who, input_data(input))

        return _payload(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.", extensions=requires("tag:create")
    )
    async def create_tags(self, info: Info, inputs: list[I.CreateTagInput]) -> TagsPayload:
        async def work(session: AsyncSession, who: Principal) -> list[Row]:
            bounded(inputs, MAX_BATCH, "inputs")
            return await service.create_many(session, who, [input_data(i) for i in inputs])

        rows, errors = await run(info, work, prefix="inputs")
        return TagsPayload(tags=[Tag.from_model(r) for r in rows or []], errors=errors)

    @strawberry.mutation(
        description="A new name is written into every customer carrying the tag, in the same "
        "transaction.",
        extensions=requires("tag:update"),
    )
    async def update_tag(
        self, info: Info, id: strawberry.ID, input: I.UpdateTagInput, version: int | None = None
    ) -> TagPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            return await service.update(
                session, who, _pk(id), input_data(input), expected_version=version
            )

        return _payload(await run(info, work))

    update_tags = update_many_field(
        type_name="Tag",
        plural="tags",
        lists=LIST,
        filter_input=I.TagFilter,
        update_input=I.UpdateTagInput,
        gql_type=Tag,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, data, expected_version=None
        ),
        convert=lambda info, row: Tag.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="tag:update",
    )

    delete_tag, restore_tag, destroy_tag = lifecycle_fields(
        type_name="Tag",
        payload=TagPayload,
        destroy_payload=DestroyTagPayload,
        convert=lambda info, row: Tag.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="tag",
        delete_description="Soft delete: restorable; customers keep the tag meanwhile.",
        destroy_description="Permanent delete; the tag is removed from every customer carrying it.",
    )

    @strawberry.mutation(
        description=f"Put a tag on customers in your data scope (all or nothing, at most "
        f"{service.MAX_CUSTOMERS}); each changed customer is audited and its version moves.",
        extensions=requires("tag:assign"),
    )
    async def tag_customers(
        self, info: Info, tag_id: strawberry.ID, customer_ids: list[strawberry.ID]
    ) -> TagCustomersPayload:
        async def work(session: AsyncSession, who: Principal) -> tuple[Row, list[CustomerRow]]:
            bounded(customer_ids, service.MAX_CUSTOMERS, "customer_ids")
            tag_pk, pks = _pk(tag_id, "tag_id"), _customer_pks(customer_ids)
            return await service.tag_customers(session, who, tag_pk, pks)

        return _tagging_payload(info, await run(info, work, prefix=""))

    @strawberry.mutation(
        description=f"Take a tag off customers in your data scope (all or nothing, at most "
        f"{service.MAX_CUSTOMERS}).",
        extensions=requires("tag:assign"),
    )
    async def untag_customers(
        self, info: Info, tag_id: strawberry.ID, customer_ids: list[strawberry.ID]
    ) -> TagCustomersPayload:
        async def work(session: AsyncSession, who: Principal) -> tuple[Row, list[CustomerRow]]:
            bounded(customer_ids, service.MAX_CUSTOMERS, "customer_ids")
            tag_pk, pks = _pk(tag_id, "tag_id"), _customer_pks(customer_ids)
            return await service.untag_customers(session, who, tag_pk, pks)

        return _tagging_payload(info, await run(info, work, prefix=""))
