"""The backup tests' tenant: realistic data in many tables, written through the services."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from crmtest import PASSWORD

from crm_core.customers import service as customers
from crm_core.db.engine import Database
from crm_core.demo.seed import seed_demo
from crm_core.identity.principal import Principal
from crm_core.messaging.outbox import NullDispatcher, unit_of_work
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantKeys
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants.models import Role


@pytest.fixture(scope="session")
async def demo(db: Database, settings: Settings) -> SimpleNamespace:
    """A tenant with realistic data in many tables, written through the domain services, plus a
    customer with sealed identifiers."""
    await seed_demo(db, settings, slug="bk-demo", customers=40, password=PASSWORD)
    async with db.core_session() as session:
        row = await tenants_repo.get_by_slug(session, "bk-demo")
        owner = await tenants_repo.get_user_by_email(session, "owner@demo-company.cn")
    ref = TenantRef(id=row.id, slug=row.slug)
    admin = Principal(owner.id, ref, Role.owner)
    keys = TenantKeys(load_master_key(settings))
    cipher = await keys.cipher(db, ref.id)
    async with unit_of_work(db.tenant(ref), NullDispatcher()) as session:
        sealed = await customers.create(
            session,
            admin,
            {"code": "BK-SEALED", "name": "备份测试有限公司", "kind": "company",
             "tax_id": "91310000MA1FL0XX1A", "bank_account": "6222 0000 1111 2222"},
            cipher=cipher,
        )  # fmt: skip
    return SimpleNamespace(ref=ref, admin=admin, sealed_id=sealed.id, keys=keys)
