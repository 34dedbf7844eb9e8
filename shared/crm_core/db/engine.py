"""Engines and sessions. Nothing here runs at import time: ``Database.create()`` builds the pool.

One engine per process. A tenant's sessions come from the same pool through
``engine.execution_options(schema_translate_map={None: schema})``: the map rewrites every
schema-less table to the tenant's schema at compile time, and, unlike ``SET search_path``,
leaves no state on the pooled connection. A query that somehow ran without the map would name
tables with no schema, which resolve to ``public`` where no tenant table exists: it fails closed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from crm_core.settings import Settings
from crm_core.tenancy import TenantRef, schema_for


def async_url(url: str) -> str:
    """Accept ``postgresql://`` as well and pick our driver (asyncpg, see bench/db_drivers.py)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine_from_settings(settings: Settings, *, url: str | None = None) -> AsyncEngine:
    raw = url or settings.require_database_url()
    timeout_ms = settings.db.statement_timeout_ms
    engine = create_async_engine(
        async_url(raw),
        pool_size=settings.db.pool_size,
        max_overflow=settings.db.max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        echo=settings.db.echo,
        connect_args={
            # A runaway query must not hold a connection forever; set on the server side.
            "server_settings": {
                "statement_timeout": str(timeout_ms),
                "idle_in_transaction_session_timeout": str(max(timeout_ms * 4, 60_000)),
                "application_name": "crm",
            },
            # Prepared statements are per schema-translated SQL text; asyncpg's cache is per
            # connection, so keep it bounded for many tenants.
            "statement_cache_size": 256,
        },
    )
    return engine


@dataclass
class StatementCounter:
    """Counts SQL statements sent by an engine (tests and benchmarks)."""

    count: int = 0
    statements: list[str] = field(default_factory=list)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += 1
        self.statements.append(statement)

    @classmethod
    def attach(cls, engine: AsyncEngine) -> StatementCounter:
        counter = cls()
        event.listen(engine.sync_engine, "before_cursor_execute", counter)
        return counter

    def detach(self, engine: AsyncEngine) -> None:
        event.remove(engine.sync_engine, "before_cursor_execute", self)


class Database:
    """The process's engine, with session factories for the control plane and for tenants."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._core = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._tenant_factories: dict[uuid.UUID, async_sessionmaker[AsyncSession]] = {}

    @classmethod
    def create(cls, settings: Settings, *, url: str | None = None) -> Database:
        return cls(create_engine_from_settings(settings, url=url))

    async def dispose(self) -> None:
        await self.engine.dispose()

    def core_session(self) -> AsyncSession:
        return self._core()

    @asynccontextmanager
    async def core_transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._core() as session, session.begin():
            yield session

    def tenant(self, tenant: TenantRef) -> TenantDatabase:
        factory = self._tenant_factories.get(tenant.id)
        if factory is None:
            bound = self.engine.execution_options(
                schema_translate_map={None: schema_for(tenant.id)}
            )
            factory = async_sessionmaker(bound, expire_on_commit=False, autoflush=False)
            self._tenant_factories[tenant.id] = factory
        return TenantDatabase(tenant, factory)


@dataclass(frozen=True, slots=True)
class TenantDatabase:
    """Sessions bound to one tenant's schema. Hand this (not a session) to concurrent code."""

    tenant: TenantRef
    factory: async_sessionmaker[AsyncSession]

    def session(self) -> AsyncSession:
        session = self.factory()
        session.info["tenant"] = self.tenant
        return session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed at the end, rolled back on any exception."""
        async with self.session() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.session() as session:
            yield session
