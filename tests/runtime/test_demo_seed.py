"""The demo generator is deterministic, and the seeder writes a consistent small tenant through
the services: contracts come from won opportunities of the same customer, order lines name real
products, tickets belong to customers whose contracts were delivered."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from crm_core.contracts.models import Contract, ContractDelivery
from crm_core.customers.models import Customer
from crm_core.db.engine import Database
from crm_core.demo.catalogue import generate_activities, generate_leads, generate_products
from crm_core.demo.generate import generate_customers
from crm_core.demo.records import BENCH, DEMO, Staff, generate_records
from crm_core.demo.seed import seed_demo
from crm_core.followups.models import FollowUp
from crm_core.leads.models import Lead, LeadStatus
from crm_core.opportunities.models import Opportunity, OpportunityOutcome, OpportunityStageHistory
from crm_core.orders.models import Order, OrderLine
from crm_core.products.models import Product
from crm_core.settings import Settings
from crm_core.tags.models import Tag
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo
from crm_core.tickets.models import ServiceTicket
from crm_core.visits.models import VisitRecord

STAFF = Staff(sales=(uuid.UUID(int=1), uuid.UUID(int=2)), service=(uuid.UUID(int=3),))
TODAY = date(2026, 3, 2)


def _records(today: date = TODAY) -> list[object]:
    customers = list(enumerate(generate_customers(300, owner_ids=STAFF.sales)))
    products = generate_products()
    return [
        generate_records(customers, today=today, staff=STAFF, products=products, profile=p)
        for p in (DEMO, BENCH)
    ]


def test_generators_are_deterministic_and_sliceable() -> None:
    assert _records() == _records()
    assert _records() != _records(date(2026, 3, 3))
    assert generate_products() == generate_products()
    assert len(generate_products()) == 60
    assert generate_leads(50, sales=STAFF.sales) == generate_leads(50, sales=STAFF.sales)
    assert (
        generate_leads(10, sales=STAFF.sales, start=20)
        == generate_leads(30, sales=STAFF.sales)[20:]
    )
    kw = {"customers": 100, "today": TODAY}
    assert generate_activities(5, **kw) == generate_activities(5, **kw)  # type: ignore[arg-type]
    # A customer's records do not depend on the slice it was generated in.
    customers = list(enumerate(generate_customers(40, owner_ids=STAFF.sales)))
    products = generate_products()
    whole = generate_records(customers, today=TODAY, staff=STAFF, products=products)
    part = generate_records(customers[25:], today=TODAY, staff=STAFF, products=products)
    assert whole[25:] == part


async def test_seeded_demo_tenant_is_consistent(db: Database, settings: Settings) -> None:
    result = await seed_demo(db, settings, slug="demo-check", customers=50, password="pw-2026-demo")
    assert result.customers_created == 50 and result.records_created > 100
    async with db.core_session() as session:
        tenant = await tenants_repo.get_by_slug(session, "demo-check")
    assert tenant is not None
    tdb = db.tenant(TenantRef(id=tenant.id, slug=tenant.slug))
    async with tdb.read() as s:

        async def count(stmt: object) -> int:
            return int((await s.execute(stmt)).scalar_one())  # type: ignore[call-overload]

        assert await count(select(func.count()).select_from(Product)) == 60
        assert await count(select(func.count()).select_from(Tag)) >= 10
        # Every contract: a won opportunity of the same customer.
        bad_contracts = (
            select(func.count())
            .select_from(Contract)
            .outerjoin(Opportunity, Opportunity.id == Contract.opportunity_id)
            .where(
                (Opportunity.id.is_(None))
                | (Opportunity.customer_id != Contract.customer_id)
                | (Opportunity.outcome != OpportunityOutcome.won)
            )
        )
        assert await count(select(func.count()).select_from(Contract)) > 0
        assert await count(bad_contracts) == 0
        # Every order line: a product of the catalogue; some orders under contracts.
        orphan_lines = (
            select(func.count())
            .select_from(OrderLine)
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(Product.id.is_(None))
        )
        assert await count(select(func.count()).select_from(OrderLine)) > 0
        assert await count(orphan_lines) == 0
        linked = select(func.count()).select_from(Order).where(Order.contract_id.is_not(None))
        assert await count(linked) > 0
        # Tickets: only at customers with a delivered contract.
        delivered = (
            select(Contract.customer_id)
            .join(ContractDelivery, ContractDelivery.contract_id == Contract.id)
            .where(ContractDelivery.delivered_on.is_not(None))
        )
        stray = (
            select(func.count())
            .select_from(ServiceTicket)
            .where(ServiceTicket.customer_id.not_in(delivered))
        )
        assert await count(stray) == 0
        # Opportunities went through the funnel with history; some follow-ups are due.
        assert await count(select(func.count()).select_from(OpportunityStageHistory)) > await count(
            select(func.count()).select_from(Opportunity)
        )
        assert await count(select(func.count()).select_from(FollowUp)) > 0
        assert await count(select(func.count()).select_from(VisitRecord)) > 0
        converted = (
            select(func.count()).select_from(Lead).where(Lead.status == LeadStatus.converted)
        )
        assert await count(select(func.count()).select_from(Lead)) == 10
        assert await count(converted) <= 10
        pool = select(func.count()).select_from(Customer).where(Customer.owner_id.is_(None))
        assert await count(pool) >= 0
    # Idempotent: a second seed leaves the tenant as it is.
    again = await seed_demo(db, settings, slug="demo-check", customers=50, password="pw-2026-demo")
    assert again.customers_created == 0 and again.records_created == 0
