"""`update<Things>(filter, input)`: one change to every record a filter matches, made once for
every type.

Bounded: a filter matching more than the limit is refused before anything is written, so a
careless filter cannot rewrite a whole tenant. The records are those the list with the same
filter would show (scope, liveness), each goes through the entity's own update (validation,
workflow, audit, version bump), and it is all one transaction: one refusal and nothing changes.

`create<Things>(inputs: [{customerId, input}])`: the one batch-create shape of every record that
hangs off a customer, all or nothing as well.

Payloads are named per type, with the plural as the list field, like the hand-written ones:
`<Things>Payload { <things>, errors }` and `Updated<Things>Payload { count, <things>, errors }`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.filters import to_spec
from crm_api.grouping import MakeBase
from crm_api.inputs import input_data
from crm_api.listing import ListSpec, refuse_personal
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id, to_global_id
from crm_core.errors import DomainError, ErrorCode, FieldError
from crm_core.identity.principal import Principal
from crm_core.query.filters import compile_filter

MAX_BULK_UPDATE = 500

UpdateOne = Callable[[Info, AsyncSession, Principal, uuid.UUID, dict[str, Any]], Awaitable[Any]]


def _snake(camel_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel_name).lower()


def _payload_type(name: str, fields: dict[str, Any], descriptions: Mapping[str, str]) -> Any:
    """A strawberry type built at run time with a fixed GraphQL name (one per entity)."""
    namespace: dict[str, Any] = {"__annotations__": fields}
    for field_name, text in descriptions.items():
        namespace[field_name] = strawberry.field(description=text)
    return strawberry.type(type(name, (), namespace), name=name)


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
        return payload(**{"count": len(items), field: items, "errors": errors})

    field = _snake(plural)
    payload = _payload_type(
        f"Updated{plural[0].upper()}{plural[1:]}Payload",
        {"count": int, field: list[gql_type], "errors": list[UserError]},  # type: ignore[valid-type]
        {"count": "Records changed."},
    )
    resolve.__annotations__ = {
        "info": Info,
        "filter": filter_input,
        "input": update_input,
        "return": payload,
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
CreateAll = Callable[
    [Info, AsyncSession, Principal, list[tuple[uuid.UUID, dict[str, Any]]]], Awaitable[list[Any]]
]


def _item_field(index: int, field: str | None) -> str:
    if field is None:
        return str(index)
    if field == "customer_id":
        return f"{index}.customer_id"
    return f"{index}.input.{field}"


def create_many_under_customer_field(
    *,
    type_name: str,
    plural: str,
    create_input: type,
    gql_type: type,
    convert: Callable[[Info, Any], Any],
    permission: str,
    create_one: CreateOne | None = None,
    create_all: CreateAll | None = None,
    id_fields: Mapping[str, str] | None = None,
    data_of: Callable[[Any], dict[str, Any]] | None = None,
    limit: int = MAX_BULK_CREATE,
) -> Any:
    """``create<Things>(inputs: [{customerId, input}])`` for records that hang off a customer:
    all or nothing, errors named ``inputs.<n>.input.<field>`` (``inputs.<n>.customerId``).

    ``create_one`` writes one record; ``create_all`` takes the whole parsed batch instead, for a
    service whose batch does more than one create after another (its errors must already name
    ``<n>.input.<field>``). ``data_of`` turns an item's input into service data (default:
    ``input_data`` with ``id_fields``)."""
    if (create_one is None) == (create_all is None):
        raise TypeError("give exactly one of create_one and create_all")
    item_input = strawberry.input(
        type(
            f"Create{type_name}ItemInput",
            (),
            {"__annotations__": {"customer_id": strawberry.ID, "input": create_input}},
        ),
        name=f"Create{type_name}ItemInput",
        description=f"One {type_name} of a batch, with its customer.",
    )
    field = _snake(plural)
    payload = _payload_type(
        f"{plural[0].upper()}{plural[1:]}Payload",
        {field: list[gql_type], "errors": list[UserError]},  # type: ignore[valid-type]
        {},
    )

    def parse(item: Any) -> dict[str, Any]:
        if data_of is not None:
            return data_of(item.input)
        return input_data(item.input, id_fields=dict(id_fields or {}))

    async def resolve(info: Info, inputs: list[Any]) -> Any:
        async def work(session: AsyncSession, who: Principal) -> list[Any]:
            bounded(inputs, limit, "inputs")
            parsed = []
            for i, item in enumerate(inputs):
                try:
                    customer_pk = from_global_id(
                        item.customer_id, field="customer_id", expect="Customer"
                    )[1]
                    data = parse(item)
                    if create_all is not None:
                        parsed.append((customer_pk, data))
                        continue
                    assert create_one is not None
                    parsed.append(await create_one(info, session, who, customer_pk, data))
                except DomainError as exc:
                    raise DomainError(
                        [FieldError(_item_field(i, e.field), e.code, e.message) for e in exc.errors]
                    ) from None
            if create_all is not None:
                return await create_all(info, session, who, parsed)
            return parsed

        rows, errors = await run(info, work, prefix="inputs")
        return payload(**{field: [convert(info, r) for r in rows or []], "errors": errors})

    resolve.__annotations__ = {
        "info": Info,
        "inputs": list[item_input],  # type: ignore[valid-type]
        "return": payload,
    }
    return strawberry.mutation(
        resolver=resolve,
        description=f"Several {type_name} records, each under its customer; at most {limit}, "
        "all or nothing.",
        extensions=requires(permission),
    )
