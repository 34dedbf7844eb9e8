"""Declaring actors: ``@tenant_actor`` / ``@system_actor`` record them; a worker binds them to its broker.

Declaring does nothing at import time (no broker needed); ``bind_all(broker, runtime)`` creates the
Dramatiq actors in the worker. A tenant actor takes keyword-only, JSON-safe arguments including
``tenant_id``; the wrapper refuses a message without one, skips a tenant that is not active, and
hands the function a ``TenantDatabase`` for that tenant and the worker's ``WorkerRuntime``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import dramatiq
from sqlalchemy import select

from crm_core.db.engine import Database, TenantDatabase
from crm_core.identity.permissions import allows
from crm_core.messaging.outbox import Dispatcher
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef, bind_log_tenant
from crm_core.tenants.models import Membership
from crm_core.tenants.service import active_ref

log = logging.getLogger(__name__)


class WorkerRuntime(Protocol):
    settings: Settings

    async def database(self) -> Database: ...

    @property
    def dispatcher(self) -> Dispatcher: ...


TenantFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ActorSpec:
    name: str
    queue_name: str
    fn: TenantFn
    max_retries: int
    min_backoff_ms: int
    max_backoff_ms: int
    time_limit_ms: int
    tenant_scoped: bool
    # The permission the user a message acts for (``on_behalf_of``) must still hold when the job
    # runs: a role changed or a member removed since the request stops the job.
    permission: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


REGISTRY: dict[str, ActorSpec] = {}


class MissingTenant(Exception):
    """A tenant actor got a message without ``tenant_id``: a bug upstream, never retried."""


def _declare(
    tenant_scoped: bool, name: str, queue_name: str, **opts: Any
) -> Callable[[TenantFn], TenantFn]:
    if "." not in name:
        raise ValueError("actor names are <domain>.<verb_noun>")

    def decorate(fn: TenantFn) -> TenantFn:
        if name in REGISTRY and REGISTRY[name].fn is not fn:
            raise ValueError(f"actor {name} declared twice")
        REGISTRY[name] = ActorSpec(
            name=name,
            queue_name=queue_name,
            fn=fn,
            max_retries=opts.pop("max_retries", 5),
            min_backoff_ms=opts.pop("min_backoff_ms", 1_000),
            max_backoff_ms=opts.pop("max_backoff_ms", 300_000),
            time_limit_ms=opts.pop("time_limit_ms", 600_000),
            permission=opts.pop("permission", None),
            tenant_scoped=tenant_scoped,
            options=opts,
        )
        return fn

    return decorate


def tenant_actor(name: str, *, queue_name: str, **opts: Any) -> Callable[[TenantFn], TenantFn]:
    return _declare(True, name, queue_name, **opts)


def system_actor(name: str, *, queue_name: str, **opts: Any) -> Callable[[TenantFn], TenantFn]:
    return _declare(False, name, queue_name, **opts)


def _parse_tenant_id(kwargs: dict[str, Any]) -> uuid.UUID:
    raw = kwargs.pop("tenant_id", None)
    if not raw:
        raise MissingTenant("message has no tenant_id")
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise MissingTenant("message has a malformed tenant_id") from exc


def _wrap(spec: ActorSpec, runtime: WorkerRuntime) -> Callable[..., Awaitable[Any]]:
    async def run(**kwargs: Any) -> Any:
        db = await runtime.database()
        if not spec.tenant_scoped:
            return await spec.fn(runtime=runtime, db=db, **kwargs)
        try:
            tenant_id = _parse_tenant_id(kwargs)
        except MissingTenant:
            log.error(
                "refusing %s: the message names no valid tenant (a bug in its sender)", spec.name
            )
            raise
        # Bound before the status check too, so even that query's span names the tenant.
        bind_log_tenant(TenantRef(id=tenant_id, slug=""))
        try:
            tenant = await active_ref(db, tenant_id)
            if tenant is None:
                log.warning("skipping %s: tenant %s is not active", spec.name, tenant_id)
                return None
            bind_log_tenant(tenant)
            on_behalf_of = kwargs.pop("on_behalf_of", None)
            if (
                spec.permission
                and on_behalf_of
                and not await may_act(db, tenant, on_behalf_of, spec.permission)
            ):
                log.warning(
                    "refusing %s: the requesting user may no longer %s", spec.name, spec.permission
                )
                return None
            tdb: TenantDatabase = db.tenant(tenant)
            return await spec.fn(tdb=tdb, runtime=runtime, **kwargs)
        finally:
            bind_log_tenant(None)

    run.__name__ = spec.fn.__name__
    run.__qualname__ = spec.fn.__qualname__
    return run


async def may_act(db: Database, tenant: TenantRef, user_id: str, permission: str) -> bool:
    """Whether ``user_id`` is an active member of the tenant whose role grants ``permission``."""
    try:
        uid = uuid.UUID(str(user_id))
    except ValueError:
        return False
    async with db.core_session() as session:
        role = (
            await session.execute(
                select(Membership.role).where(
                    Membership.tenant_id == tenant.id,
                    Membership.user_id == uid,
                    Membership.is_active.is_(True),
                )
            )
        ).scalar_one_or_none()
    return role is not None and allows(role, permission)


def bind_all(
    broker: dramatiq.Broker, runtime: WorkerRuntime
) -> dict[str, dramatiq.Actor[Any, Any]]:
    """Create a Dramatiq actor for every declared spec on ``broker``."""
    actors = {}
    for spec in REGISTRY.values():
        declare: Any = dramatiq.actor
        actors[spec.name] = declare(
            _wrap(spec, runtime),
            actor_name=spec.name,
            queue_name=spec.queue_name,
            broker=broker,
            max_retries=spec.max_retries,
            min_backoff=spec.min_backoff_ms,
            max_backoff=spec.max_backoff_ms,
            time_limit=spec.time_limit_ms,
            **{**spec.options, "throws": (MissingTenant, *spec.options.get("throws", ()))},
        )
    return actors
