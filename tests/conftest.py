"""Shared fixtures: a fresh database on a real PostgreSQL, a real Redis, two look-alike tenants.

Servers: ``CRM_TEST_DATABASE_URL`` / ``CRM_TEST_REDIS_URL`` when set, else the machine's
127.0.0.1:5432 and 127.0.0.1:6379 (as CI has them). Each test session makes its own database and
Redis namespace, so parallel runs and a developer's ``crm up`` never see each other.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis as redis_lib
from crmtest import GQL, LOGIN, PASSWORD, TenantFixture, make_tenant
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.db import migrate
from crm_core.db.engine import Database, StatementCounter, async_url
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.settings import Settings

ADMIN_URL = os.environ.get("CRM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "embedded: starts embedded PostgreSQL/Valkey servers")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def db_name() -> str:
    return f"crm_test_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def database_url(db_name: str) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(async_url(ADMIN_URL)).set(database=db_name).render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def redis_namespace() -> str:
    return f"crmtest-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        redis_url=REDIS_URL,
        data_dir=tmp_path_factory.mktemp("data"),
        worker={"namespace": redis_namespace, "heartbeat_timeout_ms": 5000},
    )


@pytest.fixture(scope="session")
async def db(settings: Settings, db_name: str, redis_namespace: str) -> AsyncIterator[Database]:
    admin = create_async_engine(async_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    database = Database.create(settings)
    await migrate.upgrade_core(database.engine)
    try:
        yield database
    finally:
        await database.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        await admin.dispose()
        client = redis_lib.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{redis_namespace}*"):
            client.delete(key)
        client.close()


@pytest.fixture(scope="session")
async def tenant_a(db: Database) -> TenantFixture:
    return await make_tenant(db, "alpha")


@pytest.fixture(scope="session")
async def tenant_b(db: Database) -> TenantFixture:
    return await make_tenant(db, "bravo")


@pytest.fixture(scope="session")
async def app(settings: Settings, db: Database) -> AsyncIterator[Any]:
    from crm_api.app import create_app

    broker = build_broker(settings)
    application = create_app(settings, database=db, dispatcher=BrokerDispatcher(broker))
    async with application.router.lifespan_context(application):
        yield application
    broker.close()


@pytest.fixture(scope="session")
def gql_as(app: Any) -> Callable[[str, str | None], Awaitable[GQL]]:
    async def sign_in(email: str, tenant: str | None = None) -> GQL:
        anon = GQL(app)
        data = await anon(LOGIN, {"i": {"email": email, "password": PASSWORD, "tenant": tenant}})
        assert data["login"]["errors"] == [], data
        return GQL(app, data["login"]["session"]["accessToken"])

    return sign_in


@pytest.fixture
def count_statements(db: Database) -> Callable[[], StatementCounter]:
    counters: list[StatementCounter] = []

    def attach() -> StatementCounter:
        counters.append(StatementCounter.attach(db.engine))
        return counters[-1]

    yield attach  # type: ignore[misc]
    for c in counters:
        c.detach(db.engine)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()
