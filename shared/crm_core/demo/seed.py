"""The demo tenant: a company, a few users and realistic customers. Idempotent: a tenant that
already has customers is left as it is, so a second ``crm up`` reuses the data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from crm_core.contacts import service as contacts
from crm_core.customers import service as customers
from crm_core.customers.models import Customer
from crm_core.db.engine import Database, TenantDatabase
from crm_core.demo.generate import DemoCustomer, generate_customers
from crm_core.identity.principal import Principal
from crm_core.identity.service import create_user
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Role

DEMO_USERS = (
    ("owner@demo-company.cn", "王经理 (Owner)", Role.owner, None),
    ("sales1@demo-company.cn", "李娜", Role.sales, "east"),
    ("sales2@demo-company.cn", "Emily Carter", Role.sales, "international"),
    ("service@demo-company.cn", "张伟", Role.service, None),
)
CHUNK = 250


@dataclass(frozen=True, slots=True)
class SeedResult:
    tenant_slug: str
    login_email: str
    password: str
    customers_created: int
    customers_total: int

    def __str__(self) -> str:
        return (
            f"tenant {self.tenant_slug}: {self.customers_created} customers created, "
            f"{self.customers_total} in all; login {self.login_email}"
        )


async def seed_demo(
    db: Database, settings: Settings, *, slug: str, customers: int, password: str
) -> SeedResult:
    tenant, _ = await tenants.create(
        db, tenants.TenantInput(slug=slug, name="示范贸易有限公司 Demo Trading Co.")
    )
    users = []
    for email, name, role, team in DEMO_USERS:
        async with db.core_session() as session:
            user = await tenants_repo.get_user_by_email(session, email)
            member = user is not None and await tenants_repo.is_member(session, tenant.id, user.id)
        if (
            user is None or not member
        ):  # a second start keeps users (and their passwords) as they are
            user = await create_user(
                db,
                email=email,
                name=name,
                password=password,
                tenant_slug=slug,
                role=role,
                team=team,
            )
        users.append(user)
    ref = TenantRef(id=tenant.id, slug=tenant.slug)
    tdb = db.tenant(ref)
    principal = Principal(user_id=users[0].id, tenant=ref, role=Role.owner)
    async with tdb.read() as session:
        existing = (await session.execute(select(func.count()).select_from(Customer))).scalar_one()
    created = 0
    if existing == 0:
        owners = tuple(u.id for u in users[:3])
        batch = []
        for item in generate_customers(customers, owner_ids=owners):
            batch.append(item)
            if len(batch) == CHUNK:
                created += await _write(tdb, principal, batch, settings)
                batch = []
        if batch:
            created += await _write(tdb, principal, batch, settings)
    return SeedResult(slug, DEMO_USERS[0][0], password, created, existing + created)


async def _write(
    tdb: TenantDatabase, principal: Principal, batch: list[DemoCustomer], settings: Settings
) -> int:
    region = settings.default_phone_region
    async with tdb.transaction() as session:
        for item in batch:
            customer = await customers.create(
                session,
                principal,
                item.customer,
                default_region=region,
                cleanse=False,
                lenient=True,
            )
            for contact in item.contacts:
                await contacts.create(
                    session, principal, customer.id, contact, default_region=region, lenient=True
                )
    return len(batch)
