"""Tenant lifecycle: create is idempotent and race-safe; suspend, delete, resume, purge."""

from __future__ import annotations

import asyncio

import pytest

from crm_core.db import admin
from crm_core.errors import DomainError
from crm_core.tenants import repository, service
from crm_core.tenants.models import TenantStatus


async def test_create_is_idempotent_and_safe_when_concurrent(db) -> None:
    data = service.TenantInput(slug="race-co", name="Race Co")
    results = await asyncio.gather(*(service.create(db, data) for _ in range(4)))
    ids = {tenant.id for tenant, _ in results}
    assert len(ids) == 1
    assert sum(created for _, created in results) == 1
    tenant, created = await service.create(db, data)
    assert not created and tenant.provisioned_at is not None
    assert await admin.tenant_schema_exists(db.engine, tenant.id)


@pytest.mark.parametrize(
    "slug", ["", "über", "-lead", "trail-", "has space", "a" * 64, "semi;colon"]
)
async def test_bad_slugs_are_refused(db, slug) -> None:
    with pytest.raises(DomainError) as err:
        await service.create(db, service.TenantInput(slug=slug, name="X"))
    assert err.value.errors[0].field == "slug"


async def test_half_created_tenant_is_finished_on_retry(db) -> None:
    tenant, _ = await service.create(db, service.TenantInput(slug="half-made", name="Half"))
    async with db.core_transaction() as session:
        row = await repository.get(session, tenant.id)
        row.provisioned_at = None
    await admin.drop_tenant_schema(db.engine, tenant.id)
    again, created = await service.create(db, service.TenantInput(slug="half-made", name="Half"))
    assert not created and again.provisioned_at is not None
    assert await admin.tenant_schema_exists(db.engine, tenant.id)


async def test_delete_keeps_data_and_purge_needs_confirmation(db) -> None:
    tenant, _ = await service.create(db, service.TenantInput(slug="short-lived", name="Short"))
    with pytest.raises(DomainError):
        await service.purge(db, "short-lived", confirm="short-lived")  # not deleted yet
    await service.set_status(db, "short-lived", TenantStatus.deleted)
    assert await admin.tenant_schema_exists(db.engine, tenant.id)
    assert await service.active_ref(db, tenant.id) is None
    with pytest.raises(DomainError) as err:
        await service.purge(db, "short-lived", confirm="wrong")
    assert err.value.errors[0].field == "confirm"
    resumed = await service.set_status(db, "short-lived", TenantStatus.active)
    assert resumed.status is TenantStatus.active
    await service.set_status(db, "short-lived", TenantStatus.deleted)
    await service.purge(db, "short-lived", confirm="short-lived")
    assert not await admin.tenant_schema_exists(db.engine, tenant.id)
    async with db.core_session() as session:
        assert await repository.get_by_slug(session, "short-lived") is None
