"""COPY of an import's rows into the tenant's UNLOGGED ``import_staging`` table.

Raw driver calls on a tenant table, so they live in the database package: the schema name comes
only from ``schema_for()`` (a validated ``tenant_<hex>``), the table and columns are constants.
The COPY runs on the session's own connection, inside its transaction: the rows become visible
with the run's ``staged`` flag, or not at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.tenancy import TenantRef, schema_for

TABLE = "import_staging"
COLUMNS = ("run_id", "row_number", "cells")


async def no_statement_timeout(session: AsyncSession) -> None:
    """This transaction only (SET LOCAL ends with it): a COPY lasts as long as the file."""
    await session.execute(text("SET LOCAL statement_timeout = 0"))


async def copy_rows(
    session: AsyncSession,
    tenant: TenantRef,
    run_id: uuid.UUID,
    rows: AsyncIterable[tuple[int, Sequence[Any]]],
) -> int:
    """Stream ``(row_number, cells)`` into staging with one binary COPY; returns rows copied."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    count = 0

    async def records() -> AsyncIterator[tuple[uuid.UUID, int, str]]:
        nonlocal count
        async for number, cells in rows:
            count += 1
            yield run_id, number, json.dumps(list(cells), ensure_ascii=False)

    await driver.copy_records_to_table(
        TABLE, schema_name=schema_for(tenant.id), columns=list(COLUMNS), records=records()
    )
    return count
