"""`update<Things>(filter, input)`: one change to every record a filter matches, made once for
every type.

Bounded: a filter matching more than the limit is refused before anything is written, so a
careless filter cannot rewrite a whole tenant. The records are those the list with the same
filter would show (scope, liveness), each goes through the entity's own update (validation,
workflow, audit, version bump), and it is all one transaction: one refusal and nothing changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.filters import to_spec
from crm_api.grouping import MakeBase
from crm_api.inputs import input_data
from crm_api.listing import ListSpec, refuse_personal
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id, to_global_id
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.query.filters import compile_filter

T = TypeVar("T")
MAX_BULK_UPDATE = 500

UpdateOne = Callable[[Info, AsyncSession, Principal, uuid.UUID, dict[str, Any]], Awaitable[Any]]


@strawberry.type
class BulkUpdatePayload(Generic[T]):
    count: int = strawberry.field(description="Records changed.")
    items: list[T]
    errors: list[UserError]


async def update_matching(
    info: Info,
    session: AsyncSession,
    who: Principal,
    *,
    type_name: str,
    lists: ListSpec,
    make_base: MakeBase,
    filter: Any,
    data: dict[str, Any],
    update_one: UpdateOne,
    limit: int | None = None,
) -> list[Any]:
    ctx = info.context
    limit = limit or MAX_BULK_UPDATE
    spec_filter = to_spec(filter, dict(lists.id_fields))
    if not spec_filter:
        raise DomainError.one(
            "filter", ErrorCode.REQUIRED, "say which records: an empty filter is refused"
        )
    if ctx.mask_personal:
        refuse_personal(spec_filter, lists.personal)
    if not data:
        raise DomainError.one(None, ErrorCode.REQUIRED, "nothing to change")
    id_column = lists.columns["id"]
    stmt = (
        make_base(ctx, False, None)
        .where(compile_filter(spec_filter, lists.columns))
        .with_only_columns(id_column, maintain_column_froms=True)
        .order_by(None)
        .order_by(id_column)
        .limit(limit + 1)
    )
    ids = (await session.execute(stmt)).scalars().all()
    if len(ids) > limit:
        raise DomainError.one(
            "filter", ErrorCode.LIMIT_EXCEEDED, f"matches more than {limit} records; narrow it"
        )
    rows = []
    for pk in ids:
        try:
            rows.append(await update_one(info, session, who, pk, dict(data)))
        except DomainError as exc:
            gid = to_global_id(type_name, pk)
            raise DomainError(
                [FieldError(e.field, e.code, f"{e.message} (on {gid})") for e in exc.errors]
            ) from None
    return rows


def update_many_field(
    *,
    type_name: str,
    plural: str,
    lists: ListSpec,
    filter_input: type,
    update_input: type,
    gql_type: type,
    make_base: MakeBase,
    update_one: UpdateOne,
    convert: Callable[[Info, Any], Any],
    id_fields: Mapping[str, str],
    permission: str,
    limit: int | None = None,
) -> Any:
    """The ``update<Things>`` mutation field for a type."""

    async def resolve(info: Info, filter: Any, input: Any) -> Any:
        async def work(session: AsyncSession, who: Principal) -> list[Any]:
            return await update_matching(
                info,
                session,
                who,
                type_name=type_name,
                lists=lists,
                make_base=make_base,
                filter=filter,
                data=input_data(input, id_fields=dict(id_fields)),
                update_one=update_one,
                limit=limit,
            )

        rows, errors = await run(info, work)
        items = [convert(info, r) for r in rows or []]
        return BulkUpdatePayload(count=len(items), items=items, errors=errors)

    resolve.__annotations__ = {
        "info": Info,
        "filter": filter_input,
        "input": update_input,
        "return": BulkUpdatePayload[gql_type],  # type: ignore[valid-type]
    }
    return strawberry.mutation(
        resolver=resolve,
        description=f"The same change to every {type_name} the filter matches (as the "
        f"`{plural}` list would show them), at most {limit or MAX_BULK_UPDATE}, all or nothing; each change is "
        "validated and audited like a single update.",
        extensions=requires(permission),
    )


MAX_BULK_CREATE = 100

CreateOne = Callable[[Info, AsyncSession, Principal, uuid.UUID, dict[str, Any]], Awaitable[Any]]


@strawberry.type
class BulkCreatePayload(Generic[T]):
    items: list[T]
    errors: list[UserError]


def _item_field(index: int, field: str | None) -> str:
    if field is None:
        return str(index)
    if field == "customer_id":
        return f"{index}.customer_id"
    return f"{index}.input.{field}"


def create_many_under_customer_field(
    *,
    type_name: str,
    create_input: type,
    gql_type: type,
    create_one: CreateOne,
    convert: Callable[[Info, Any], Any],
    id_fields: Mapping[str, str],
    permission: str,
    limit: int = MAX_BULK_CREATE,
) -> Any:
    """``create<Things>(inputs: [{customerId, input}])`` for records that hang off a customer:
    all or nothing, errors named ``inputs.<n>.<field>``."""
    item_input = strawberry.input(
        type(
            f"Create{type_name}ItemInput",
            (),
            {"__annotations__": {"customer_id": strawberry.ID, "input": create_input}},
        ),
        name=f"Create{type_name}ItemInput",
    )

    async def resolve(info: Info, inputs: list[Any]) -> Any:
        async def work(session: AsyncSession, who: Principal) -> list[Any]:
            if len(inputs) > limit:
                raise DomainError.one(
                    "inputs", ErrorCode.LIMIT_EXCEEDED, f"at most {limit} items per call"
                )
            rows = []
            for i, item in enumerate(inputs):
                try:
                    customer_pk = from_global_id(
                        item.customer_id, field="customer_id", expect="Customer"
                    )[1]
                    data = input_data(item.input, id_fields=dict(id_fields))
                    rows.append(await create_one(info, session, who, customer_pk, data))
                except DomainError as exc:
                    raise DomainError(
                        [FieldError(_item_field(i, e.field), e.code, e.message) for e in exc.errors]
                    ) from None
            return rows

        rows, errors = await run(info, work, prefix="inputs")
        return BulkCreatePayload(items=[convert(info, r) for r in rows or []], errors=errors)

    resolve.__annotations__ = {
        "info": Info,
        "inputs": list[item_input],  # type: ignore[valid-type]
        "return": BulkCreatePayload[gql_type],  # type: ignore[valid-type]
    }
    return strawberry.mutation(
        resolver=resolve,
        description=f"Several {type_name} records, each under its customer; at most {limit}, "
        "all or nothing.",
        extensions=requires(permission),
    )
