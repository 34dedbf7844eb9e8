"""The few raw statements the platform needs (locks, schema drops). Raw SQL lives only here and in
the migrations, because ``schema_translate_map`` does not apply to it."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from crm_core.tenancy import schema_for


def lock_key(namespace: str, value: str) -> int:
    """A stable signed 64-bit advisory-lock key for (namespace, value)."""
    digest = uuid.uuid5(uuid.NAMESPACE_URL, f"crm:{namespace}:{value}").bytes
    return int.from_bytes(digest[:8], "big", signed=True)


async def advisory_xact_lock(session: AsyncSession | AsyncConnection, key: int) -> None:
    """Held until the surrounding transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


async def drop_tenant_schema(engine: AsyncEngine, tenant_id: uuid.UUID) -> None:
    schema = schema_for(tenant_id)  # validated name: safe to quote into DDL
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


async def tenant_schema_exists(engine: AsyncEngine, tenant_id: uuid.UUID) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema_for(tenant_id)}
        )
        return found.scalar() is not None
