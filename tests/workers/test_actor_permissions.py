"""Permissions are enforced in workers too: a job acting for a user runs only while that user
still holds the permission the actor declares (roles can change between request and job)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update

from crm_core.db.engine import Database, TenantDatabase
from crm_core.messaging.actors import ActorSpec, _wrap
from crm_core.messaging.outbox import NullDispatcher
from crm_core.settings import Settings
from crm_core.tenants.models import Membership


@dataclass
class Runtime:
    settings: Settings
    db: Database
    dispatcher: NullDispatcher = field(default_factory=NullDispatcher)

    async def database(self) -> Database:
        return self.db


async def test_job_for_a_user_checks_the_permission_when_it_runs(settings, db, tenant_a) -> None:
    ran: list[str] = []

    async def destroy_everything(*, tdb: TenantDatabase, runtime: Runtime, note: str) -> None:
        ran.append(f"{tdb.tenant.slug}:{note}")

    spec = ActorSpec(
        name="test.destroy_everything",
        queue_name="test",
        fn=destroy_everything,
        max_retries=0,
        min_backoff_ms=0,
        max_backoff_ms=0,
        time_limit_ms=1000,
        tenant_scoped=True,
        permission="customer:destroy",
    )
    job = _wrap(spec, Runtime(settings, db))
    tenant = str(tenant_a.ref.id)
    await job(tenant_id=tenant, on_behalf_of=str(tenant_a.admin.user_id), note="admin")
    await job(tenant_id=tenant, on_behalf_of=str(tenant_a.sales.user_id), note="sales")
    await job(tenant_id=tenant, note="system")
    assert ran == ["alpha:admin", "alpha:system"]

    # The admin is demoted after the request was queued: the job must not run.
    async with db.core_transaction() as session:
        await session.execute(
            update(Membership)
            .where(Membership.user_id == tenant_a.admin.user_id)
            .values(role="sales")
        )
    try:
        await job(tenant_id=tenant, on_behalf_of=str(tenant_a.admin.user_id), note="demoted")
    finally:
        async with db.core_transaction() as session:
            await session.execute(
                update(Membership)
                .where(Membership.user_id == tenant_a.admin.user_id)
                .values(role="admin")
            )
    assert ran == ["alpha:admin", "alpha:system"]
