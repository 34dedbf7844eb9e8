"""One way to run a mutation: one transaction, messages after commit, expected errors as data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from crm_api.context import Info
from crm_api.errors import UserError, user_errors
from crm_core.errors import Conflict, DomainError, ErrorCode
from crm_core.identity.principal import Principal
from crm_core.messaging.outbox import unit_of_work

T = TypeVar("T")
Work = Callable[[AsyncSession, Principal], Awaitable[T]]


async def run(
    info: Info, work: Work[T], *, prefix: str = "input"
) -> tuple[T | None, list[UserError]]:
    """Run ``work`` in one transaction; DomainErrors roll back and come back as ``UserError``s."""
    ctx = info.context
    principal = ctx.require_principal()
    try:
        async with unit_of_work(ctx.tenant_db, ctx.app.dispatcher) as session:
            return await work(session, principal), []
    except StaleDataError:
        # Someone else's update won the race between our read and our write.
        return None, user_errors(Conflict(), prefix=prefix)
    except DomainError as exc:
        return None, user_errors(exc, prefix=prefix)


def bounded(items: list[Any], limit: int, name: str) -> None:
    if len(items) > limit:
        raise DomainError.one(name, ErrorCode.LIMIT_EXCEEDED, f"at most {limit} items per call")
