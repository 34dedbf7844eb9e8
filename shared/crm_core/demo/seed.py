"""The demo tenant: a company, a few users, realistic customers and everything around them
(catalogue, opportunities through the funnel, contracts, orders, service, visits, leads…), all
written through the domain services. Idempotent: a tenant that already has customers is left as
it is, so a second ``crm up`` reuses the data."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from crm_core.contacts import service as contacts
from crm_core.customers import service as customers
from crm_core.customers.models import Customer
from crm_core.db.engine import Database, TenantDatabase
from crm_core.demo.catalogue import generate_activities, generate_leads, generate_products
from crm_core.demo.generate import DemoCustomer, generate_customers
from crm_core.demo.records import DEMO, DemoRecords, Profile, Staff, generate_records
from crm_core.demo.seed_records import (
    Catalogue,
    Written,
    write_activity,
    write_catalogue,
    write_lead,
    write_records,
)
from crm_core.identity.principal import Principal
from crm_core.identity.service import create_user
from crm_core.pool import service as pool_service
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tenants import service as tenants
from crm_core.tenants.models import Role
from crm_core.tenants.repository import timezone_of

DEMO_USERS = (
    ("owner@demo-company.cn", "王经理 (Owner)", Role.owner, None),
    ("sales1@demo-company.cn", "李娜", Role.sales, "east"),
    ("sales2@demo-company.cn", "Emily Carter", Role.sales, "international"),
    ("service@demo-company.cn", "张伟", Role.service, None),
)
CHUNK = 50
PARALLEL = 3


@dataclass(frozen=True, slots=True)
class SeedResult:
    tenant_slug: str
    login_email: str
    password: str
    customers_created: int
    customers_total: int
    records_created: int = 0

    def __str__(self) -> str:
        return (
            f"tenant {self.tenant_slug}: {self.customers_created} customers created "
            f"with {self.records_created} related records, {self.customers_total} in all; "
            f"login {self.login_email}"
        )


async def seed_demo(
    db: Database,
    settings: Settings,
    *,
    slug: str,
    customers: int,
    password: str,
    profile: Profile = DEMO,
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
        zone = await timezone_of(session, tenant.id)
    created = records = 0
    if existing == 0:
        # The company's today: the one moment the demo reads the clock (the generators do not).
        today = datetime.now(ZoneInfo(zone)).date()
        staff = Staff(sales=tuple(u.id for u in users[:3]), service=(users[3].id,))
        items = generate_products()
        async with tdb.transaction() as session:
            catalogue = await write_catalogue(session, principal, items)
        # Chunks go in a few transactions at once: each waits on the database part of the time.
        gate = asyncio.Semaphore(PARALLEL)
        written: dict[int, Written] = {}

        async def chunk(batch: list[tuple[int, DemoCustomer]]) -> int:
            async with gate:
                recs = generate_records(
                    batch, today=today, staff=staff, products=items, profile=profile
                )
                return await _write(tdb, principal, settings, catalogue, batch, recs, written)

        stream = enumerate(generate_customers(customers, owner_ids=staff.sales))
        batches = iter(lambda: list(islice(stream, CHUNK)), [])
        records += sum(await asyncio.gather(*(chunk(b) for b in batches)))
        created = len(written)
        ordered = [written[i] for i in sorted(written)]
        records += await _write_company(tdb, principal, settings, customers, ordered, today, staff)
        # Converted leads became customers too: the total is what the tenant now holds.
        async with tdb.read() as session:
            existing = (
                await session.execute(select(func.count()).select_from(Customer))
            ).scalar_one()
    return SeedResult(slug, DEMO_USERS[0][0], password, created, existing, records)


async def _write(
    tdb: TenantDatabase,
    principal: Principal,
    settings: Settings,
    catalogue: Catalogue,
    batch: list[tuple[int, DemoCustomer]],
    recs: list[DemoRecords],
    written: dict[int, Written],
) -> int:
    """One transaction a chunk: the customers, their contacts and their records; then those
    meant for the shared pool are released into it (the pool's own service stamps them)."""
    region = settings.default_phone_region
    n = 0
    async with tdb.transaction() as session:
        pool = []
        for (index, item), rec in zip(batch, recs, strict=True):
            customer = await customers.create(
                session, principal, item.customer, default_region=region, cleanse=False,
                lenient=True,
            )  # fmt: skip
            contact_ids = [
                (
                    await contacts.create(
                        session, principal, customer.id, c, default_region=region, lenient=True
                    )
                ).id
                for c in item.contacts
            ]
            done = Written(customer.id, contact_ids)
            written[index] = done
            n += await write_records(session, principal, catalogue, done, rec)
            if rec.in_pool:
                pool.append(customer.id)
        if pool:
            await pool_service.release(session, principal, pool)
    return n


async def _write_company(
    tdb: TenantDatabase,
    principal: Principal,
    settings: Settings,
    customers: int,
    written: list[Written],
    today: date,
    staff: Staff,
) -> int:
    """Leads (a fifth of the customer count; converted ones become customers ``L-…``) and
    marketing activities (one per hundred customers, at least three) with attendees."""
    region = settings.default_phone_region
    n = 0
    lead_list = generate_leads(customers // 5, sales=staff.sales)
    for start in range(0, len(lead_list), CHUNK):
        async with tdb.transaction() as session:
            for i, lead in enumerate(lead_list[start : start + CHUNK], start):
                await write_lead(session, principal, lead, f"L-{i + 1:06d}", region)
                n += 1
    activity_list = generate_activities(
        max(3, customers // 100), customers=len(written), today=today, owner=staff.sales[0]
    )
    async with tdb.transaction() as session:
        for activity in activity_list:
            n += await write_activity(session, principal, activity, written)
    return n
