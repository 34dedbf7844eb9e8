"""Shared set-up for the benchmarks: a scratch database on the server named by the environment.

``CRM_BENCH_KEEP=<name>`` keeps the database under that name instead of dropping it, and reuses it
when it is already there (``loaded()`` then tells a script to skip its load): measuring again on a
100,000-customer tenant then costs seconds, not the eight minutes of the load.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.db import migrate
from crm_core.db.engine import Database, async_url
from crm_core.settings import Settings

ADMIN_URL = os.environ.get(
    "CRM_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CRM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def scratch_database(
    **settings_overrides: object,
) -> AsyncIterator[tuple[Settings, Database]]:
    keep = os.environ.get("CRM_BENCH_KEEP", "")
    name = keep or f"crm_bench_{secrets.token_hex(4)}"
    admin = create_async_engine(async_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        exists = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(async_url(ADMIN_URL)).set(database=name).render_as_string(hide_password=False)
    settings = Settings(
        database_url=url,
        redis_url=REDIS_URL,
        worker={"namespace": f"crmbench-{name[-8:]}"},
        **settings_overrides,  # type: ignore[arg-type]
    )
    db = Database.create(settings)
    try:
        await migrate.upgrade_core(db.engine)
        yield settings, db
    finally:
        await db.dispose()
        if not keep:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def loaded(db: Database, slug: str) -> bool:
    """Whether a kept database (``CRM_BENCH_KEEP``) already holds the tenant ``slug``."""
    from crm_core.tenants import repository

    async with db.core_session() as session:
        return await repository.get_by_slug(session, slug) is not None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]
