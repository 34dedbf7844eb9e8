"""Writes the generated demo records through the domain services (validation, derived columns,
stage history, totals and audit all apply), resolving the generator's indexes to ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.activities import service as activities
from crm_core.complaints import service as complaints
from crm_core.contracts import service as contracts
from crm_core.customers.models import Customer
from crm_core.demo import catalogue as cat
from crm_core.demo.records import DemoRecords
from crm_core.evaluations import service as evaluations
from crm_core.followups import service as followups
from crm_core.identity.principal import Principal
from crm_core.interactions import service as interactions
from crm_core.leads import service as leads
from crm_core.opportunities import service as opportunities
from crm_core.orders import service as orders
from crm_core.products import service as products
from crm_core.requirements import service as requirements
from crm_core.segments import service as segments
from crm_core.surveys import service as surveys
from crm_core.tags import service as tags
from crm_core.tickets import service as tickets
from crm_core.visits import service as visits

# What the demo's saved segments filter on (the customers list filters these columns by the
# same names).
SEGMENT_COLUMNS: dict[str, Any] = {
    n: getattr(Customer, n)
    for n in ("grade", "province", "city", "lifecycle_stage", "tags", "kind", "industry")
}


@dataclass(frozen=True, slots=True)
class Catalogue:
    products: list[uuid.UUID]
    criteria: list[uuid.UUID]


@dataclass(frozen=True, slots=True)
class Written:
    """A customer's ids, for activities and the checks of a test."""

    customer_id: uuid.UUID
    contact_ids: list[uuid.UUID]


async def write_catalogue(
    session: AsyncSession, principal: Principal, items: Sequence[cat.DemoProduct]
) -> Catalogue:
    product_ids = [(await products.create(session, principal, p.fields())).id for p in items]
    for tag in cat.tags():
        await tags.create(session, principal, tag)
    for segment in cat.segments():
        await segments.create(session, principal, segment, columns=SEGMENT_COLUMNS)
    criterion_ids = [
        (await evaluations.create_criterion(session, principal, c)).id for c in cat.criteria()
    ]
    for template in cat.survey_templates():
        await surveys.create(session, principal, template)
    return Catalogue(product_ids, criterion_ids)


def _refs(fields: dict[str, Any], contacts: Sequence[uuid.UUID]) -> dict[str, Any]:
    out = dict(fields)
    if "contact" in out:
        out["contact_id"] = contacts[out.pop("contact")]
    return out


async def write_records(
    session: AsyncSession,
    principal: Principal,
    catalogue: Catalogue,
    written: Written,
    recs: DemoRecords,
) -> int:
    """Everything around one customer; returns how many records (not updates) it wrote."""
    cid, contacts, p = written.customer_id, written.contact_ids, principal
    n = 0
    req_ids = []
    for r in recs.requirements:
        row = await requirements.create(session, p, cid, _refs(r.fields, contacts))
        for u in r.updates:
            await requirements.update(session, p, row.id, u, expected_version=None)
        req_ids.append(row.id)
    contract_ids = []
    for o in recs.opportunities:
        f = _refs(o.fields, contacts)
        f["products"] = [
            {"product_id": catalogue.products[ln["product"]], "quantity": ln["quantity"]}
            for ln in f["products"]
        ]
        if "requirement" in f:
            f["requirement_id"] = req_ids[f.pop("requirement")]
        opp = await opportunities.create(session, p, cid, f)
        for move in o.path:
            await opportunities.update(session, p, opp.id, move, expected_version=None)
        n += 1
        if o.contract is not None:
            ct = await contracts.create(
                session, p, cid, o.contract.fields | {"opportunity_id": opp.id}
            )
            for d in o.contract.deliveries:
                await contracts.create_delivery(session, p, ct.id, d)
            for u in o.contract.updates:
                await contracts.update(session, p, ct.id, u, expected_version=None)
            contract_ids.append(ct.id)
            n += 1 + len(o.contract.deliveries)
    for order in recs.orders:
        f = dict(order.fields)
        f["lines"] = [{**ln, "product_id": catalogue.products[ln["product"]]} for ln in f["lines"]]
        for ln in f["lines"]:
            del ln["product"]
        if "contract" in f:
            f["contract_id"] = contract_ids[f.pop("contract")]
        placed = await orders.create(session, p, cid, f)
        for status in order.statuses:
            await orders.update(session, p, placed.id, {"status": status}, expected_version=None)
        paid = [
            (await orders.record_payment(session, p, placed.id, pay))[1].id
            for pay in order.payments
        ]
        for refund in order.refunds:
            data = {k: v for k, v in refund.items() if k != "payment"}
            await orders.record_refund(
                session, p, placed.id, data | {"payment_id": paid[refund["payment"]]}
            )
        n += 1 + len(paid) + len(order.refunds)
    for flows, service in ((recs.tickets, tickets), (recs.complaints, complaints)):
        for r in flows:
            flow = await service.create(session, p, cid, _refs(r.fields, contacts))
            for u in r.updates:
                await service.update(session, p, flow.id, u, expected_version=None)
    for r in recs.interactions:
        await interactions.create(session, p, cid, _refs(r.fields, contacts))
    for r in recs.follow_ups:
        await followups.create(session, p, cid, r.fields)
    for plan, record in recs.visits:
        plan_id = None
        if plan is not None:
            planned = await visits.create_plan(session, p, cid, _refs(plan.fields, contacts))
            for u in plan.updates:
                await visits.update_plan(session, p, planned.id, u, expected_version=None)
            plan_id = planned.id
        if record is not None:
            f = _refs(record.fields, contacts)
            if plan_id is not None:
                f["plan_id"] = plan_id
            await visits.create_record(session, p, cid, f)
    for r in recs.evaluations:
        f = dict(r.fields)
        f["scores"] = [
            {"criterion_id": catalogue.criteria[sc["criterion"]], "score": sc["score"]}
            for sc in f["scores"]
        ]
        await evaluations.create(session, p, cid, f)
    n += len(req_ids) + len(recs.tickets) + len(recs.complaints) + len(recs.interactions)
    n += len(recs.follow_ups) + sum((a is not None) + (b is not None) for a, b in recs.visits)
    return n + len(recs.evaluations)


async def write_lead(
    session: AsyncSession, principal: Principal, lead: cat.DemoLead, code: str, region: str
) -> None:
    row = await leads.create(session, principal, lead.fields, default_region=region)
    for status in lead.statuses:
        await leads.update(
            session, principal, row.id, {"status": status}, expected_version=None,
            default_region=region,
        )  # fmt: skip
    if lead.convert:
        await leads.convert(
            session, principal, row.id, customer_data={"code": code}, default_region=region
        )


async def write_activity(
    session: AsyncSession,
    principal: Principal,
    activity: cat.DemoActivity,
    customers: Sequence[Written],
) -> int:
    row = await activities.create(session, principal, activity.fields)
    items = []
    for a in activity.attendees:
        who = customers[a["customer"]]
        item = {k: v for k, v in a.items() if k != "customer"} | {"customer_id": who.customer_id}
        if who.contact_ids:
            item["contact_id"] = who.contact_ids[0]
        items.append(item)
    if items:
        await activities.add_attendees(session, principal, row.id, items)
    if activity.status is not None:
        await activities.update(
            session, principal, row.id, {"status": activity.status}, expected_version=None
        )
    return 1 + len(items)
