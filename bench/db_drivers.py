"""asyncpg or psycopg 3 under SQLAlchemy's asyncio layer: the same work, timed for each.

    .venv/bin/python bench/db_drivers.py
Prints queries/s for a one-row primary-key lookup and for a 50-row page of wide rows, sequential
and at concurrency 16 (pool of 10), so the choice of driver rests on numbers from this machine.
"""

from __future__ import annotations

import asyncio
import time

from _common import scratch_database
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from crm_core.customers.models import Customer
from crm_core.demo.seed import seed_demo
from crm_core.tenancy import schema_for
from crm_core.tenants import repository as tenants_repo


async def measure(url: str, schema: str, ids: list) -> dict[str, float]:
    engine = create_async_engine(url, pool_size=10).execution_options(
        schema_translate_map={None: schema}
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    out = {}

    async def lookup(i: int) -> None:
        async with sessions() as s:
            (await s.execute(select(Customer).where(Customer.id == ids[i % len(ids)]))).scalar_one()

    async def page(i: int) -> None:
        async with sessions() as s:
            rows = (
                (
                    await s.execute(
                        select(Customer).order_by(Customer.created_at.desc(), Customer.id).limit(50)
                    )
                )
                .scalars()
                .all()
            )
            assert len(rows) == 50

    for name, fn, n in (("lookup", lookup, 2000), ("page50", page, 300)):
        await fn(0)
        started = time.perf_counter()
        for i in range(n):
            await fn(i)
        out[f"{name} sequential"] = n / (time.perf_counter() - started)
        gate = asyncio.Semaphore(16)
        started = time.perf_counter()
        await asyncio.gather(*(_bounded(gate, fn, i) for i in range(n)))
        out[f"{name} c16"] = n / (time.perf_counter() - started)
    await engine.dispose()
    return out


async def _bounded(gate: asyncio.Semaphore, fn, i: int) -> None:
    async with gate:
        await fn(i)


async def main() -> None:
    async with scratch_database() as (settings, db):
        await seed_demo(db, settings, slug="drivers", customers=500, password="drivers-password")
        async with db.core_session() as session:
            tenant = await tenants_repo.get_by_slug(session, "drivers")
        schema = schema_for(tenant.id)
        async with db.tenant(tenant).read() as session:  # type: ignore[arg-type]
            ids = list((await session.execute(select(Customer.id))).scalars())
        base = db.engine.url
        for driver in ("postgresql+asyncpg", "postgresql+psycopg"):
            url = base.set(drivername=driver).render_as_string(hide_password=False)
            results = await measure(url, schema, ids)
            print(
                driver.split("+")[1].ljust(8),
                "  ".join(f"{k}: {v:,.0f}/s" for k, v in results.items()),
            )


if __name__ == "__main__":
    asyncio.run(main())
