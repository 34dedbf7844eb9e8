"""``crm jobs …``: operators' view of background jobs across tenants (dead letters first of all)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from sqlalchemy import select

from crm_core.db.engine import Database
from crm_core.jobs.models import Job, JobStatus
from crm_core.settings import load_settings
from crm_core.tenancy import TenantRef
from crm_core.tenants.models import Tenant

jobs_app = typer.Typer(help="Background jobs across tenants.", no_args_is_help=True)


async def list_jobs(
    db: Database,
    *,
    status: JobStatus | None,
    tenant_slug: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Jobs of every provisioned tenant (or one), newest first, at most ``limit`` per tenant."""
    async with db.core_session() as session:
        stmt = select(Tenant.id, Tenant.slug).where(Tenant.provisioned_at.is_not(None))
        if tenant_slug is not None:
            stmt = stmt.where(Tenant.slug == tenant_slug)
        tenants = (await session.execute(stmt.order_by(Tenant.slug))).all()
    if tenant_slug is not None and not tenants:
        raise LookupError(f"no tenant {tenant_slug!r}")
    out: list[dict[str, Any]] = []
    for tenant_id, slug in tenants:
        query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Job.status == status)
        async with db.tenant(TenantRef(tenant_id, slug)).read() as session:
            for job in (await session.execute(query)).scalars():
                out.append(
                    {
                        "tenant": slug,
                        "id": str(job.id),
                        "kind": job.kind,
                        "status": job.status.value,
                        "attempts": f"{job.attempts}/{job.max_attempts}",
                        "created_at": job.created_at.isoformat(),
                        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
                        "error": job.error,
                    }
                )
    return out


@jobs_app.command("list", help="List jobs across tenants; --dead for the dead letters.")
def jobs_list(
    dead: bool = typer.Option(False, "--dead", help="Only dead-lettered jobs"),
    status: str | None = typer.Option(None, help="Only jobs in this status"),
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant (slug)"),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many per tenant"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line"),
) -> None:
    wanted = JobStatus.dead if dead else (JobStatus(status) if status else None)

    async def run() -> list[dict[str, Any]]:
        db = Database.create(load_settings())
        try:
            return await list_jobs(db, status=wanted, tenant_slug=tenant, limit=limit)
        finally:
            await db.dispose()

    try:
        rows = asyncio.run(run())
    except LookupError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            error = (row["error"] or "").replace("\n", " ")[:120]
            typer.echo(
                f"{row['tenant']:<20} {row['id']} {row['kind']:<28} {row['status']:<9} "
                f"{row['attempts']:>5} {row['finished_at'] or row['created_at']}  {error}"
            )
    if not as_json:
        typer.echo(f"{len(rows)} job(s)")
