"""`delete<Thing>` / `restore<Thing>` / `destroy<Thing>`: the three lifecycle mutations every
record has, made once.

Delete is a soft delete (restorable, with the optimistic `version`), restore brings it back, and
destroy removes it for good. Each calls the entity's own service function, so the rules around
them (numbers that must stay unique on restore, children a destroy takes along) stay there.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.mutation import run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_core.identity.principal import Principal

SoftDelete = Callable[..., Awaitable[Any]]
Restore = Callable[[AsyncSession, Principal, uuid.UUID], Awaitable[Any]]
Destroy = Callable[[AsyncSession, Principal, uuid.UUID], Awaitable[uuid.UUID]]

SOFT_DELETE = "Soft delete: restorable."
PERMANENT = "Permanent delete."


def _record_field(payload: type) -> str:
    """The payload's one field that is not ``errors`` (``complaint`` of ComplaintPayload)."""
    names = [f.name for f in dataclasses.fields(payload) if f.name != "errors"]
    if len(names) != 1:
        raise TypeError(f"{payload.__name__} needs exactly one field besides errors")
    return names[0]


def lifecycle_fields(
    *,
    type_name: str,
    payload: type,
    destroy_payload: type,
    convert: Callable[[Info, Any], Any],
    soft_delete: SoftDelete,
    restore: Restore,
    destroy: Destroy,
    permission: str,
    same_permission: bool = False,
    delete_description: str | None = SOFT_DELETE,
    restore_description: str | None = None,
    destroy_description: str | None = PERMANENT,
) -> tuple[Any, Any, Any]:
    """``delete<Thing>(id, version)``, ``restore<Thing>(id)`` and ``destroy<Thing>(id)`` for
    ``type_name``, to unpack in a mutations class body. ``permission`` is the prefix (``complaint`` → ``complaint:delete`` …), or,
    with ``same_permission``, the one permission all three require (company settings)."""
    field = _record_field(payload)

    def allowed(verb: str) -> Any:
        return requires(permission if same_permission else f"{permission}:{verb}")

    def pk(id: strawberry.ID) -> uuid.UUID:
        return from_global_id(id, field="id", expect=type_name)[1]

    def one(info: Info, result: tuple[Any, list[UserError]]) -> Any:
        row, errors = result
        return payload(**{field: convert(info, row) if row is not None else None, "errors": errors})

    async def delete(info: Info, id: strawberry.ID, version: int | None = None) -> Any:
        async def work(session: AsyncSession, who: Principal) -> Any:
            return await soft_delete(session, who, pk(id), expected_version=version)

        return one(info, await run(info, work))

    async def restore_(info: Info, id: strawberry.ID) -> Any:
        async def work(session: AsyncSession, who: Principal) -> Any:
            return await restore(session, who, pk(id))

        return one(info, await run(info, work))

    async def destroy_(info: Info, id: strawberry.ID) -> Any:
        async def work(session: AsyncSession, who: Principal) -> uuid.UUID:
            return await destroy(session, who, pk(id))

        destroyed, errors = await run(info, work)
        return destroy_payload(destroyed_id=id if destroyed else None, errors=errors)

    delete.__annotations__ = {
        "info": Info,
        "id": strawberry.ID,
        "version": int | None,
        "return": payload,
    }
    restore_.__annotations__ = {"info": Info, "id": strawberry.ID, "return": payload}
    destroy_.__annotations__ = {"info": Info, "id": strawberry.ID, "return": destroy_payload}
    return (
        strawberry.mutation(
            resolver=delete, description=delete_description, extensions=allowed("delete")
        ),
        strawberry.mutation(
            resolver=restore_, description=restore_description, extensions=allowed("restore")
        ),
        strawberry.mutation(
            resolver=destroy_, description=destroy_description, extensions=allowed("destroy")
        ),
    )
