"""Bulk loader for a benchmark tenant of N customers with proportionate related data.

Seeding 100,000 customers through the service layer takes about 40 ms a customer with its
records here (over an hour), so this path writes the same generator's rows with COPY instead:

- the tenant, its users and the catalogue (products, tags, segments, criteria, survey templates)
  go through ``seed_demo(customers=0)``, i.e. through the services;
- every customer-facing row is built by the services' own functions: each service's ``_fields``
  parses and cleans the input, ``_normalise`` parses phones, e-mails and one-line addresses, and
  the ``refresh_search``/``_refresh_search`` helpers fill the derived search columns; the
  funnel gives stages their probability and outcome, ``line_amount`` the order totals,
  ``weighted_total``/``recommend`` the evaluations, ``DEFAULT_SLA_HOURS`` the complaint SLA;
- what a service writes beside the row is synthesised: stage history (one row per stage
  entered), order totals, contract and order numbers (sequences moved past them afterwards).
  Not written: audit entries, lifecycle history, activities; leads stop at "qualified" (no
  conversion into extra customers).

Secondary indexes of the loaded tables are dropped before the COPY and built again after it
(pitfalls: loading without indexes and indexing after is faster).

    .venv/bin/python bench/bulk_load.py --customers 5000     # loads, prints counts and time
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import json
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from _common import scratch_database
from sqlalchemy import JSON, select, text
from sqlalchemy.dialects.postgresql import JSONB

from crm_core.complaints import service as complaints
from crm_core.complaints.models import Complaint, ComplaintSeverity
from crm_core.contacts import service as contacts
from crm_core.contacts.models import Contact
from crm_core.contacts.schemas import ContactFields
from crm_core.contracts import service as contracts
from crm_core.contracts.models import Contract, ContractDelivery
from crm_core.customers import service as customers
from crm_core.customers.models import Customer
from crm_core.db.engine import Database
from crm_core.demo.catalogue import generate_leads, generate_products
from crm_core.demo.generate import generate_customers
from crm_core.demo.records import BENCH, Profile, Staff, generate_records
from crm_core.evaluations import service as evaluations
from crm_core.evaluations.models import (
    EvaluationCriterion,
    EvaluationScore,
    RelationshipEvaluation,
)
from crm_core.followups import service as followups
from crm_core.followups.models import FollowUp
from crm_core.interactions import service as interactions
from crm_core.interactions.models import Interaction
from crm_core.leads import service as leads
from crm_core.leads.models import Lead
from crm_core.opportunities import service as opportunities
from crm_core.opportunities.funnel import DEFAULT as FUNNEL
from crm_core.opportunities.models import (
    Opportunity,
    OpportunityProduct,
    OpportunityStageHistory,
)
from crm_core.orders import service as orders
from crm_core.orders.models import Order, OrderLine, OrderPayment, OrderRefund
from crm_core.orders.schemas import OrderFields
from crm_core.pool.models import PoolReason
from crm_core.products.models import Product
from crm_core.requirements import service as requirements
from crm_core.requirements.models import RequirementAnalysis
from crm_core.settings import Settings
from crm_core.tenancy import TenantRef, schema_for
from crm_core.tenants import repository as tenants_repo
from crm_core.tickets import service as tickets
from crm_core.tickets.models import ServiceTicket
from crm_core.validation import parse
from crm_core.visits import service as visits
from crm_core.visits.models import VisitPlan, VisitRecord
from crm_core.visits.schemas import VisitPlanFields, VisitRecordFields

SLICE = 2_000
ZERO = Decimal(0)
# Parents before children (the COPY order).
MODELS: tuple[type[Any], ...] = (
    Customer, Contact, RequirementAnalysis, Opportunity, OpportunityProduct,
    OpportunityStageHistory, Contract, ContractDelivery, Order, OrderLine, OrderPayment,
    OrderRefund, ServiceTicket, Complaint, Interaction, FollowUp, VisitPlan, VisitRecord,
    RelationshipEvaluation, EvaluationScore, Lead,
)  # fmt: skip


class Rows:
    """Transient ORM objects per table, turned into COPY records (Python defaults applied; the
    server's defaults, such as ``created_at``, are left to the server)."""

    def __init__(self) -> None:
        self.objects: dict[type[Any], list[Any]] = defaultdict(list)

    def add(self, obj: Any) -> Any:
        if getattr(obj, "id", None) is None:
            obj.id = uuid.uuid4()
        self.objects[type(obj)].append(obj)
        return obj

    def count(self) -> int:
        return sum(len(v) for v in self.objects.values())


def _column_plan(model: type[Any]) -> list[tuple[str, str, Any]]:
    table = model.__table__
    out = []
    for col in table.columns:
        if col.server_default is not None and col.default is None:
            continue  # created_at, updated_at: the server's now()
        key = model.__mapper__.get_property_by_column(col).key
        out.append((col.name, key, col))
    return out


def _value(obj: Any, key: str, col: Any) -> Any:
    value = getattr(obj, key)
    if value is None and col.default is not None:
        arg = col.default.arg
        value = arg(None) if callable(arg) else arg
    if isinstance(value, enum.Enum):
        return value.value
    if value is not None and isinstance(col.type, JSON | JSONB):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


async def copy(db: Database, schema: str, rows: Rows) -> None:
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        for model in MODELS:
            objs = rows.objects.get(model)
            if not objs:
                continue
            plan = _column_plan(model)
            records = [tuple(_value(o, key, col) for _, key, col in plan) for o in objs]
            await raw.copy_records_to_table(
                model.__tablename__,
                records=records,
                columns=[name for name, _, _ in plan],
                schema_name=schema,
            )
        await conn.commit()


def _stamp(obj: Any, user: uuid.UUID) -> Any:
    obj.created_by = obj.updated_by = user
    return obj


class Builder:
    """The rows of one slice of customers."""

    def __init__(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx
        self.user: uuid.UUID = ctx["owner"]
        self.region: str = ctx["region"]
        self.products: list[Product] = ctx["products"]
        self.criteria: list[EvaluationCriterion] = ctx["criteria"]

    def customer(self, rows: Rows, item: Any, in_pool: bool) -> tuple[Customer, list[uuid.UUID]]:
        _, fields = customers._writable(item.customer)
        fields = customers._normalise(fields, default_region=self.region, lenient=True)
        c = _stamp(Customer(**fields), self.user)
        if in_pool:
            c.previous_owner_id, c.owner_id = c.owner_id, None
            c.pool_entered_at, c.pool_reason = datetime.now(UTC), PoolReason.released
        customers.refresh_search(c)
        rows.add(c)
        contact_ids = []
        for data in item.contacts:
            parsed = parse(ContactFields, dict(data))
            f = {n: getattr(parsed, n) for n in parsed.model_fields_set}
            f = contacts._normalise(f, default_region=self.region, lenient=True)
            contact = _stamp(Contact(customer_id=c.id, **f), self.user)
            contacts._refresh_search(contact)
            contact_ids.append(rows.add(contact).id)
        return c, contact_ids

    def records(self, rows: Rows, c: Customer, contact_ids: list[uuid.UUID], recs: Any) -> None:
        def refs(fields: dict[str, Any]) -> dict[str, Any]:
            out = dict(fields)
            if "contact" in out:
                out["contact_id"] = contact_ids[out.pop("contact")]
            return out

        def final(fields: dict[str, Any], updates: list[dict[str, Any]]) -> dict[str, Any]:
            out = dict(fields)
            for u in updates:
                out.update(u)
            return out

        cid, user = c.id, self.user
        req_ids = []
        for r in recs.requirements:
            f = requirements._fields(refs(final(r.fields, r.updates)))
            row = _stamp(RequirementAnalysis(customer_id=cid, **f), user)
            requirements._refresh_search(row)
            req_ids.append(rows.add(row).id)
        contract_ids = []
        for o in recs.opportunities:
            raw = refs(o.fields)
            lines = raw.pop("products")
            if "requirement" in raw:
                raw["requirement_id"] = req_ids[raw.pop("requirement")]
            moves = [m for m in o.path]
            extra = {k: v for m in moves for k, v in m.items() if k != "stage"}
            f, _, _ = opportunities._fields(raw | extra)
            stage = FUNNEL.get(moves[-1]["stage"]) if moves else FUNNEL.first
            assert stage is not None
            priced = [(self.products[ln["product"]], ln["quantity"]) for ln in lines]
            total = sum((q * p.unit_price for p, q in priced), ZERO).quantize(Decimal("0.01"))
            closed = datetime.now(UTC) if stage.key in ("won", "lost") else None
            opp = Opportunity(customer_id=cid, **f, stage=stage.key, probability=stage.probability,
                              outcome=stage.outcome, closed_at=closed, currency="CNY",
                              expected_amount=total)  # fmt: skip
            opportunities._refresh_search(_stamp(opp, user))
            rows.add(opp)
            for i, (p, q) in enumerate(priced):
                rows.add(OpportunityProduct(opportunity_id=opp.id, product_id=p.id, position=i,
                                            quantity=q, unit_price=p.unit_price))  # fmt: skip
            previous = None
            for key in [FUNNEL.first.key, *(m["stage"] for m in moves)]:
                st = FUNNEL.get(key)
                assert st is not None
                rows.add(OpportunityStageHistory(
                    opportunity_id=opp.id, from_stage=previous, to_stage=key,
                    probability=st.probability, expected_amount=total,
                    changed_at=datetime.now(UTC), changed_by=user))  # fmt: skip
                previous = key
            if o.contract is not None:
                ct_fields = contracts._fields(final(o.contract.fields, o.contract.updates))
                n = self.ctx["next_contract"] = self.ctx["next_contract"] + 1
                ct = Contract(customer_id=cid, opportunity_id=opp.id, number=f"CT-{n:06d}",
                              currency="CNY", **ct_fields)  # fmt: skip
                contracts._refresh_search(_stamp(ct, user))
                contract_ids.append(rows.add(ct).id)
                for d in o.contract.deliveries:
                    df = contracts._delivery_fields(d)
                    df.setdefault("acceptance_status", "pending")
                    rows.add(_stamp(ContractDelivery(contract_id=ct.id, **df), user))
        for order in recs.orders:
            data = dict(order.fields)
            if "contract" in data:
                data["contract_id"] = contract_ids[data.pop("contract")]
            items = data.pop("lines")
            f = orders._fields(data)
            status = order.statuses[-1] if order.statuses else "draft"
            n = self.ctx["next_order"] = self.ctx["next_order"] + 1
            row = Order(customer_id=cid, number=f"SO-{n:06d}", status=status, currency="CNY",
                        owner_id=c.owner_id or c.previous_owner_id, **f)  # fmt: skip
            row.id = uuid.uuid4()
            lines = parse(OrderFields, {"lines": [
                {"product_id": self.products[ln["product"]].id, "quantity": ln["quantity"],
                 "discount": ln["discount"]} for ln in items]}).lines or []  # fmt: skip
            total = ZERO
            for i, ln in enumerate(lines):
                p = next(p for p in self.products if p.id == ln.product_id)
                amount = orders.line_amount(ln.quantity, p.unit_price, ln.discount or ZERO)
                total += amount
                rows.add(OrderLine(order_id=row.id, position=i + 1, product_id=p.id,
                                   product_name=p.name, quantity=ln.quantity,
                                   unit_price=p.unit_price, discount=ln.discount or ZERO,
                                   amount=amount))  # fmt: skip
            paid_ids = []
            for pay in order.payments:
                pid = rows.add(OrderPayment(order_id=row.id, currency="CNY", created_by=user,
                                            **pay)).id  # fmt: skip
                paid_ids.append(pid)
            for ref in order.refunds:
                data = {k: v for k, v in ref.items() if k != "payment"}
                rows.add(OrderRefund(order_id=row.id, payment_id=paid_ids[ref["payment"]],
                                     currency="CNY", created_by=user, **data))  # fmt: skip
            row.total_amount = total
            row.paid_amount = sum((p["amount"] for p in order.payments), ZERO)
            row.refunded_amount = sum((r["amount"] for r in order.refunds), ZERO)
            orders._refresh_search(_stamp(row, user))
            rows.add(row)
        for r in recs.tickets:
            f = tickets._fields(refs(final(r.fields, r.updates)))
            t = _stamp(ServiceTicket(customer_id=cid, **f), user)
            tickets._refresh_search(t)
            rows.add(t)
        hours = complaints.DEFAULT_SLA_HOURS
        for r in recs.complaints:
            f = complaints._fields(refs(final(r.fields, r.updates)))
            severity = ComplaintSeverity(f.get("severity", "medium"))
            f["sla_due_at"] = f["received_at"] + timedelta(hours=hours[severity])
            cm = _stamp(Complaint(customer_id=cid, **f), user)
            complaints._refresh_search(cm)
            rows.add(cm)
        for r in recs.interactions:
            it = _stamp(Interaction(customer_id=cid, **interactions._fields(refs(r.fields))), user)
            interactions._refresh_search(it)
            rows.add(it)
        for r in recs.follow_ups:
            fu = _stamp(FollowUp(customer_id=cid, **followups._fields(r.fields)), user)
            fu.status = fu.status or "planned"
            followups._refresh_search(fu)
            rows.add(fu)
        for plan, record in recs.visits:
            plan_id = None
            if plan is not None:
                pf = visits._fields(VisitPlanFields, refs(final(plan.fields, plan.updates)))
                pf.setdefault("status", "done" if record is not None else "planned")
                vp = _stamp(VisitPlan(customer_id=cid, **pf), user)
                visits._refresh_plan(vp)
                plan_id = rows.add(vp).id
            if record is not None:
                rf = visits._fields(VisitRecordFields, refs(record.fields))
                vr = _stamp(
                    VisitRecord(customer_id=cid, plan_id=plan_id, currency="CNY", **rf), user
                )
                visits._refresh_record(vr)
                rows.add(vr)
        limits = evaluations.DEFAULT_THRESHOLDS
        for r in recs.evaluations:
            f = dict(r.fields)
            scores = f.pop("scores")
            f = evaluations._evaluation_fields(f)
            picked = [(Decimal(sc["score"]), self.criteria[sc["criterion"]]) for sc in scores]
            total = evaluations.weighted_total([(s, cr.weight) for s, cr in picked])
            ev = _stamp(RelationshipEvaluation(customer_id=cid, total_score=total,
                                               recommendation=evaluations.recommend(total, limits),
                                               **f), user)  # fmt: skip
            rows.add(ev)
            for s, cr in picked:
                rows.add(EvaluationScore(evaluation_id=ev.id, criterion_id=cr.id, score=s,
                                         weight=cr.weight))  # fmt: skip

    def lead(self, rows: Rows, demo_lead: Any) -> None:
        final = dict(demo_lead.fields)
        f = leads._fields(final, default_region=self.region)
        row = _stamp(Lead(**f), self.user)
        row.status = demo_lead.statuses[-1] if demo_lead.statuses else "new"
        leads.refresh_search(row)
        rows.add(row)


# Tables whose secondary indexes are dropped for the load and built again after it.
async def _drop_indexes(db: Database, schema: str) -> list[str]:
    names = [m.__tablename__ for m in MODELS]
    async with db.engine.begin() as conn:
        result = await conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class c ON c.relname = i.indexname "
                "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname "
                "LEFT JOIN pg_constraint k ON k.conindid = c.oid "
                "WHERE i.schemaname = :s AND i.tablename = ANY(:t) AND k.oid IS NULL"
            ),
            {"s": schema, "t": names},
        )
        rows = result.all()
        for name, _ in rows:
            await conn.execute(text(f'DROP INDEX "{schema}"."{name}"'))
    return [d for _, d in rows]


async def _create_indexes(db: Database, definitions: list[str]) -> None:
    async with db.engine.begin() as conn:
        # Index builds of a 100k tenant outlast the per-statement limit the settings impose.
        await conn.execute(text("SET LOCAL statement_timeout = 0"))
        await conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for definition in definitions:
            await conn.execute(text(definition))


async def bulk_load(
    db: Database,
    settings: Settings,
    *,
    slug: str,
    customers_count: int,
    password: str,
    profile: Profile = BENCH,
    leads_per_customer: float = 0.2,
) -> dict[str, int]:
    """Load the tenant; returns the number of rows a table."""
    from crm_core.demo.seed import DEMO_USERS, seed_demo

    await seed_demo(db, settings, slug=slug, customers=0, password=password)
    async with db.core_session() as session:
        tenant = await tenants_repo.get_by_slug(session, slug)
        assert tenant is not None
        members = {}
        for email, *_ in DEMO_USERS:
            user = await tenants_repo.get_user_by_email(session, email)
            assert user is not None
            members[email] = user.id
    ref = TenantRef(id=tenant.id, slug=tenant.slug)
    schema = schema_for(tenant.id)
    tdb = db.tenant(ref)
    async with tdb.read() as session:
        products = list((await session.execute(select(Product).order_by(Product.code))).scalars())
        criteria = list(
            (
                await session.execute(
                    select(EvaluationCriterion).order_by(EvaluationCriterion.position)
                )
            ).scalars()
        )
    demo_products = generate_products()
    by_code = {p.code: p for p in products}
    products = [by_code[p.code] for p in demo_products]
    owner = members["owner@demo-company.cn"]
    sales = (owner, members["sales1@demo-company.cn"], members["sales2@demo-company.cn"])
    staff = Staff(sales=sales, service=(members["service@demo-company.cn"],))
    today = datetime.now(ZoneInfo(tenant.timezone)).date()
    ctx: dict[str, Any] = {"owner": owner, "region": settings.default_phone_region,
                           "products": products, "criteria": criteria,
                           "next_contract": 0, "next_order": 0}  # fmt: skip
    builder = Builder(ctx)
    indexes = await _drop_indexes(db, schema)
    counts: dict[str, int] = defaultdict(int)
    for start in range(0, customers_count, SLICE):
        n = min(SLICE, customers_count - start)
        batch = list(enumerate(generate_customers(n, owner_ids=sales, start=start), start))
        recs = generate_records(
            batch, today=today, staff=staff, products=demo_products, profile=profile
        )
        rows = Rows()
        for (_, item), rec in zip(batch, recs, strict=True):
            c, contact_ids = builder.customer(rows, item, rec.in_pool)
            builder.records(rows, c, contact_ids, rec)
        await copy(db, schema, rows)
        for model, objs in rows.objects.items():
            counts[model.__tablename__] += len(objs)
    lead_count = int(customers_count * leads_per_customer)
    for start in range(0, lead_count, SLICE * 2):
        rows = Rows()
        for lead in generate_leads(min(SLICE * 2, lead_count - start), sales=sales, start=start):
            builder.lead(rows, lead)
        await copy(db, schema, rows)
        counts["leads"] += rows.count()
    await _create_indexes(db, indexes)
    async with db.engine.begin() as conn:
        for seq, value in (
            ("contract_number_seq", ctx["next_contract"]),
            ("order_number_seq", ctx["next_order"]),
            ("customer_code_seq", customers_count),
        ):
            await conn.execute(
                text(f"SELECT setval('\"{schema}\".{seq}', :v)"), {"v": max(value, 1)}
            )
        for model in MODELS:
            await conn.execute(text(f'ANALYZE "{schema}"."{model.__tablename__}"'))
    return dict(counts)


async def main(customers_count: int) -> None:
    async with scratch_database() as (settings, db):
        t0 = time.perf_counter()
        counts = await bulk_load(
            db, settings, slug="bench", customers_count=customers_count, password="bench-pw-2026"
        )
        print(
            f"loaded in {time.perf_counter() - t0:.1f} s: "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(main(args.customers))
