"""``crm dedup scan``: the duplicate scan of one tenant, run in this process (for operators and
first runs on imported data; the same functions the ``dedup.scan_duplicates`` job runs)."""

from __future__ import annotations

import asyncio
import json

import typer

from crm_core.db.engine import Database
from crm_core.dedup import service
from crm_core.settings import load_settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo

dedup_app = typer.Typer(help="Duplicate scans.", no_args_is_help=True)


@dedup_app.command("scan", help="Scan one tenant for duplicates now; prints the counts as JSON.")
def scan(
    tenant: str = typer.Option(..., "--tenant", help="The tenant's slug"),
    kinds: list[str] = typer.Option(
        list(service.KINDS), "--kind", help="customer, contact, lead (repeatable)"
    ),
) -> None:
    bad = [k for k in kinds if k not in service.KINDS]
    if bad:
        typer.secho(f"error: --kind must be one of {', '.join(service.KINDS)}", fg="red", err=True)
        raise typer.Exit(2)

    async def main() -> dict[str, object]:
        db = Database.create(load_settings())
        try:
            async with db.core_session() as session:
                row = await tenants_repo.get_by_slug(session, tenant)
            if row is None:
                typer.secho(f"error: no tenant {tenant!r}", fg="red", err=True)
                raise typer.Exit(2)
            ref = TenantRef(id=row.id, slug=row.slug)

            async def report(done: int, total: int | None = None) -> None:
                typer.echo(f"… {done:,} pairs", err=True)

            result = await service.run_scan(db.tenant(ref), ref, kinds=kinds, report=report)
            return result.as_dict()
        finally:
            await db.dispose()

    typer.echo(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2))
