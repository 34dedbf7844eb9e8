"""Deduplication and merge: the scan finds planted duplicates and explains its scores; merge moves
every related record in one transaction and undo puts them back; two tenants never meet; only
roles with customer:merge merge; a merge killed mid-transaction leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import Column, MetaData, Table, Uuid, select

from crm_api.relay import from_global_id, to_global_id
from crm_core.activities.models import ActivityAttendee
from crm_core.audit.models import AuditEntry
from crm_core.contacts.models import Contact
from crm_core.customers import service as customers
from crm_core.customers.models import Customer
from crm_core.dedup import merge as merging
from crm_core.dedup import scan, service
from crm_core.dedup.models import CandidateStatus, CustomerMerge, DuplicateCandidate
from crm_core.messaging.outbox import NullDispatcher, unit_of_work

ROOT = Path(__file__).resolve().parents[2]
E = "errors { field code message }"

CANDIDATES = """
query($f: DuplicateCandidateFilter, $first: Int, $after: String) {
  duplicateCandidates(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind score status leftId rightId blockedOn
      evidence { field similarity weight how } customers { id name } } }
  }
}"""
CHECK = """
query($i: CustomerDuplicatesInput!, $x: ID) {
  customerDuplicates(input: $i, excludeId: $x) {
    score blockedOn customer { id name } evidence { field similarity weight how }
  }
}"""
MERGE = f"""
mutation($s: ID!, $m: ID!, $c: [MergeChoice!]) {{
  mergeCustomers(survivorId: $s, mergedId: $m, choices: $c) {{
    merge {{ id survivorId mergedId moved {{ table count }} }}
    survivor {{ id name phone email tags lifecycleStage }} {E}
  }}
}}"""
UNDO = f"""
mutation($id: ID!) {{
  undoMerge(mergeId: $id) {{ merge {{ id undoneAt }} restored {{ id name }} keptFields {E} }}
}}"""
DISMISS = f"mutation($id: ID!) {{ dismissDuplicate(id: $id) {{ candidate {{ id status }} {E} }} }}"
SETTINGS = f"""
mutation($i: DedupSettingsInput!) {{
  setDedupSettings(input: $i) {{ dedupSettings {{ autoMergeThreshold undoWindowDays minScore }} {E} }}
}}"""
GET_CUSTOMER = "query($id: ID!) { customer(id: $id) { id name } }"


def gid(kind: str, pk: uuid.UUID) -> str:
    return to_global_id(kind, pk)


def pk(global_id: str) -> uuid.UUID:
    return from_global_id(global_id)[1]


async def make(db, tenant, principal=None, **data) -> uuid.UUID:
    async with unit_of_work(db.tenant(tenant.ref), NullDispatcher()) as session:
        row = await customers.create(session, principal or tenant.admin, data, cleanse=False)
        return row.id


async def candidates_of(db, tenant, kind="customer") -> dict[frozenset[uuid.UUID], Any]:
    async with db.tenant(tenant.ref).read() as session:
        rows = (
            await session.execute(select(DuplicateCandidate).where(DuplicateCandidate.kind == kind))
        ).scalars()
        return {frozenset((r.left_id, r.right_id)): r for r in rows}


@pytest.fixture(scope="module")
async def world(db, gql_as):
    a = await make_tenant(db, "dedup-alpha")
    b = await make_tenant(db, "dedup-bravo")
    ids = {
        # The same person, transliterated, the phone re-formatted.
        "zw_cn": await make(db, a, name="张伟", kind="individual", phone="13800138000"),
        "zw_en": await make(db, a, name="Zhang Wei", kind="individual", phone="+86 138-0013-8000"),
        # The same company, abbreviated, the e-mail in capitals.
        "xc_full": await make(
            db,
            a,
            name="北京星辰科技有限公司",
            kind="company",
            email="info@xingchen.cn",
            address_line="北京市海淀区中关村大街1号",
        ),
        "xc_short": await make(
            db, a, name="星辰科技", kind="company", email="INFO@xingchen.cn", city="北京市"
        ),
        # Two different people called 张伟: same name, different phones.
        "zw_other1": await make(db, a, name="张伟", kind="individual", phone="13911112222"),
        "zw_other2": await make(db, a, name="张伟", kind="individual", phone="13722223333"),
        # Two different companies sharing a trade name in different cities and phones.
        "mh_sh": await make(
            db, a, name="上海明辉贸易有限公司", kind="company", phone="021 6888 1234"
        ),
        "mh_bj": await make(
            db, a, name="北京明辉科技有限公司", kind="company", phone="010 8888 9999"
        ),
    }
    # Look-alikes in the other tenant.
    ids["b_zw"] = await make(db, b, name="张伟", kind="individual", phone="13800138000")
    ids["b_xc"] = await make(db, b, name="星辰科技", kind="company", email="info@xingchen.cn")
    return {
        "a": a,
        "b": b,
        "ids": ids,
        "admin_a": await gql_as(a.admin_email),
        "admin_b": await gql_as(b.admin_email),
        "sales_a": await gql_as(a.sales_email),
    }


async def test_scan_finds_planted_duplicates_and_explains_them(db, world) -> None:
    a, ids = world["a"], world["ids"]
    result = await service.run_scan(db.tenant(a.ref), a.ref, kinds=["customer"], chunk=3)
    assert result.stats[0].pairs >= 2 and result.auto_merged == []
    found = await candidates_of(db, a)
    person = found[frozenset((ids["zw_cn"], ids["zw_en"]))]
    company = found[frozenset((ids["xc_full"], ids["xc_short"]))]
    assert person.score >= 0.95 and company.score >= 0.95
    assert frozenset((ids["zw_other1"], ids["zw_other2"])) not in found
    assert frozenset((ids["mh_sh"], ids["mh_bj"])) not in found
    assert not any(ids["b_zw"] in pair or ids["b_xc"] in pair for pair in found)

    # The evidence says why: the phone matched exactly, the name by transliteration.
    fields = {e["field"]: e for e in person.evidence["fields"]}
    assert fields["phone"]["similarity"] == 1.0 and fields["phone"]["weight"] > 0
    assert fields["name"]["how"] in ("transliteration", "name key", "word order")
    assert fields["name"]["weight"] > 0
    assert "phone" in person.evidence["blockedOn"]
    total = person.evidence["prior"] + sum(e["weight"] for e in person.evidence["fields"])
    assert abs(total - person.evidence["logOdds"]) < 0.01
    cfields = {e["field"]: e for e in company.evidence["fields"]}
    assert cfields["email"]["weight"] > 0 and cfields["name"]["similarity"] == 1.0
    assert cfields["name"]["how"] == "core name"
    # Values never appear in the evidence.
    assert "138" not in str(person.evidence) and "xingchen" not in str(company.evidence)

    # GraphQL: the queue, best first, with evidence; a second scan does not duplicate rows.
    await service.run_scan(db.tenant(a.ref), a.ref, kinds=["customer"])
    assert len(await candidates_of(db, a)) == len(found)
    page = (await world["admin_a"](CANDIDATES, {"first": 10}))["duplicateCandidates"]
    scores = [e["node"]["score"] for e in page["edges"]]
    assert scores == sorted(scores, reverse=True) and page["totalCount"] == len(found)
    node = next(
        e["node"] for e in page["edges"] if pk(e["node"]["leftId"]) in (ids["zw_cn"], ids["zw_en"])
    )
    assert {c["name"] for c in node["customers"]} == {"张伟", "Zhang Wei"}
    assert any(e["field"] == "phone" for e in node["evidence"])
    # Keyset pages.
    first = (await world["admin_a"](CANDIDATES, {"first": 1}))["duplicateCandidates"]
    second = (
        await world["admin_a"](CANDIDATES, {"first": 1, "after": first["pageInfo"]["endCursor"]})
    )["duplicateCandidates"]
    assert first["edges"][0]["node"]["id"] != second["edges"][0]["node"]["id"]


async def test_contacts_and_leads_are_scanned(db, world, gql_as) -> None:
    a = world["a"]
    admin = world["admin_a"]
    owner = await create_customer(admin, name="联系人测试公司")
    doc = """mutation($c: ID!, $i: CreateContactInput!) {
      createContact(customerId: $c, input: $i) { contact { id } errors { field code } } }"""
    one = await admin(
        doc, {"c": owner["id"], "i": {"name": "李娜", "phones": [{"number": "13800001111"}]}}
    )
    two = await admin(
        doc, {"c": owner["id"], "i": {"name": "Li Na", "phones": [{"number": "+86 138 0000 1111"}]}}
    )
    lead = await admin(
        "mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id } errors { field } } }",
        {"i": {"name": "王强", "companyName": "北京星辰科技有限公司", "email": "info@xingchen.cn"}},
    )
    result = await service.run_scan(db.tenant(a.ref), a.ref, kinds=["contact", "lead"])
    assert {s.kind for s in result.stats} == {"contact", "lead"}
    contacts = await candidates_of(db, a, "contact")
    pair = frozenset(pk(x["createContact"]["contact"]["id"]) for x in (one, two))
    assert contacts[pair].score >= 0.9
    leads = await candidates_of(db, a, "lead")
    lead_id = pk(lead["createLead"]["lead"]["id"])
    matched = {next(iter(p - {lead_id})) for p in leads if lead_id in p}
    assert world["ids"]["xc_full"] in matched


async def test_duplicate_check_before_create(world) -> None:
    ids = world["ids"]
    check = {"name": "星辰科技有限公司", "kind": "company", "email": "info@xingchen.cn"}
    matches = (await world["admin_a"](CHECK, {"i": check}))["customerDuplicates"]
    found = {pk(m["customer"]["id"]) for m in matches}
    assert {ids["xc_full"], ids["xc_short"]} <= found
    top = matches[0]
    assert top["score"] >= 0.9 and "email" in top["blockedOn"]
    assert any(e["field"] == "email" and e["weight"] > 0 for e in top["evidence"])
    # Excluding the record being updated.
    again = (await world["admin_a"](CHECK, {"i": check, "x": gid("Customer", ids["xc_full"])}))[
        "customerDuplicates"
    ]
    assert ids["xc_full"] not in {pk(m["customer"]["id"]) for m in again}
    # The other tenant's look-alike is never returned, and tenant b sees only its own.
    b_found = {
        pk(m["customer"]["id"])
        for m in (await world["admin_b"](CHECK, {"i": check}))["customerDuplicates"]
    }
    assert b_found == {ids["b_xc"]}
    # A sales rep sees only the customers in its scope (admin's are not its).
    assert (await world["sales_a"](CHECK, {"i": check}))["customerDuplicates"] == []
    # Nothing to compare is a field error.
    body = (await world["admin_a"].post(CHECK, {"i": {"city": "北京"}})).json()
    assert body["errors"][0]["extensions"]["field"] == "input.name"


async def test_sales_cannot_merge_or_see_the_queue(world) -> None:
    ids = world["ids"]
    sales = world["sales_a"]
    body = (
        await sales.post(
            MERGE, {"s": gid("Customer", ids["zw_cn"]), "m": gid("Customer", ids["zw_en"])}
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = (await sales.post(CANDIDATES, {})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_tenants_never_meet(db, world) -> None:
    a, b, ids = world["a"], world["b"], world["ids"]
    await service.run_scan(db.tenant(b.ref), b.ref, kinds=["customer"])
    admin_b = world["admin_b"]
    seen_b = (await admin_b(CANDIDATES, {"first": 50}))["duplicateCandidates"]
    a_ids = {i for k, i in ids.items() if not k.startswith("b_")}
    for edge in seen_b["edges"]:
        assert pk(edge["node"]["leftId"]) not in a_ids and pk(edge["node"]["rightId"]) not in a_ids
    # Merging tenant a's customers from tenant b: not found, nothing changes.
    result = (
        await admin_b(
            MERGE, {"s": gid("Customer", ids["b_zw"]), "m": gid("Customer", ids["zw_cn"])}
        )
    )["mergeCustomers"]
    assert result["merge"] is None and result["errors"][0]["code"] == "NOT_FOUND"
    assert result["errors"][0]["field"] == "mergedId"
    # Dismissing tenant a's candidate from tenant b: not found.
    a_candidate = next(iter((await candidates_of(db, a)).values()))
    dismissed = (await admin_b(DISMISS, {"id": gid("DuplicateCandidate", a_candidate.id)}))[
        "dismissDuplicate"
    ]
    assert dismissed["errors"][0]["code"] == "NOT_FOUND"
    async with db.tenant(a.ref).read() as session:
        row = await session.get(DuplicateCandidate, a_candidate.id)
        assert row is not None and row.status is CandidateStatus.open


# ------------------------------------------------------------------ merge moves everything

C_ID = "mutation($c: ID!, $i: {t}!) {{ {m}(customerId: $c, input: $i) {{ {k} {{ id }} {E} }} }}"


async def ok(gql, doc, variables, name, key):
    result = (await gql(doc, variables))[name]
    assert result["errors"] == [], result
    return result[key]


async def child(gql, customer_gid, mutation, input_type, key, data):
    doc = C_ID.format(t=input_type, m=mutation, k=key, E=E)
    return await ok(gql, doc, {"c": customer_gid, "i": data}, mutation, key)


async def populate(gql, cid: str, tag: str) -> dict[str, str]:
    """One of each record type about customer ``cid``, through GraphQL."""
    out = {}
    out["contact"] = (
        await child(gql, cid, "createContact", "CreateContactInput", "contact",
                    {"name": f"联系人{tag}", "isPrimary": True})
    )["id"]  # fmt: skip
    out["interaction"] = (
        await child(gql, cid, "createInteraction", "CreateInteractionInput", "interaction",
                    {"occurredAt": "2026-03-02T10:00:00+08:00", "channel": "PHONE"})
    )["id"]  # fmt: skip
    out["followUp"] = (
        await child(gql, cid, "createFollowUp", "CreateFollowUpInput", "followUp",
                    {"scheduledAt": "2026-05-10T10:00:00+08:00"})
    )["id"]  # fmt: skip
    out["complaint"] = (
        await child(gql, cid, "createComplaint", "CreateComplaintInput", "complaint",
                    {"kind": "COMPLAINT", "description": "漏水", "receivedAt": "2026-05-10T10:00:00+08:00"})
    )["id"]  # fmt: skip
    out["ticket"] = (
        await child(gql, cid, "createServiceTicket", "CreateServiceTicketInput", "serviceTicket",
                    {"problem": "不热", "requestedAt": "2026-05-10T10:00:00+08:00"})
    )["id"]  # fmt: skip
    out["requirement"] = (
        await child(gql, cid, "createRequirementAnalysis", "CreateRequirementAnalysisInput",
                    "requirementAnalysis", {"summary": "需求"})
    )["id"]  # fmt: skip
    out["opportunity"] = (
        await child(gql, cid, "createOpportunity", "CreateOpportunityInput", "opportunity",
                    {"name": f"项目{tag}"})
    )["id"]  # fmt: skip
    out["contract"] = (
        await child(gql, cid, "createContract", "CreateContractInput", "contract",
                    {"name": f"合同{tag}", "startsOn": "2026-01-01", "endsOn": "2026-12-31"})
    )["id"]  # fmt: skip
    product = await ok(
        gql,
        f"mutation($i: CreateProductInput!) {{ createProduct(input: $i) {{ product {{ id }} {E} }} }}",
        {"i": {"code": f"DD-{tag}-{uuid.uuid4().hex[:6]}", "name": "泵", "unitPrice": "10"}},
        "createProduct",
        "product",
    )
    out["order"] = (
        await child(gql, cid, "createOrder", "CreateOrderInput", "order",
                    {"orderedOn": "2026-02-01", "lines": [{"productId": product["id"], "quantity": "1"}]})
    )["id"]  # fmt: skip
    out["visitPlan"] = (
        await child(gql, cid, "createVisitPlan", "CreateVisitPlanInput", "visitPlan",
                    {"plannedAt": "2026-06-01T10:00:00+08:00", "purpose": "拜访"})
    )["id"]  # fmt: skip
    out["visitRecord"] = (
        await child(gql, cid, "createVisitRecord", "CreateVisitRecordInput", "visitRecord",
                    {"visitedAt": "2026-06-01T10:30:00+08:00", "outcome": "A"})
    )["id"]  # fmt: skip
    criterion = await ok(
        gql,
        f"mutation($i: CreateEvaluationCriterionInput!) {{ createEvaluationCriterion(input: $i) {{ evaluationCriterion {{ id }} {E} }} }}",
        {"i": {"name": f"标准{tag}{uuid.uuid4().hex[:4]}", "weight": "1"}},
        "createEvaluationCriterion",
        "evaluationCriterion",
    )
    out["evaluation"] = (
        await child(gql, cid, "createRelationshipEvaluation", "CreateRelationshipEvaluationInput",
                    "relationshipEvaluation", {"scores": [{"criterionId": criterion["id"], "score": 50}]})
    )["id"]  # fmt: skip
    return out


async def references(db, tenant, customer_id: uuid.UUID) -> dict[str, set[uuid.UUID]]:
    """Every row of every table that points at the customer, by table.column."""
    out: dict[str, set[uuid.UUID]] = {}
    async with db.tenant(tenant.ref).read() as session:
        for table, column in merging.customer_references():
            (key,) = table.primary_key.columns
            ids = set((await session.execute(select(key).where(column == customer_id))).scalars())
            if ids:
                out[f"{table.name}.{column.name}"] = ids
    return out


EVERY_TABLE = {
    "contacts.customer_id", "interactions.customer_id", "follow_ups.customer_id",
    "complaints.customer_id", "service_tickets.customer_id", "requirement_analyses.customer_id",
    "opportunities.customer_id", "contracts.customer_id", "orders.customer_id",
    "leads.converted_customer_id", "activity_attendees.customer_id", "visit_plans.customer_id",
    "visit_records.customer_id", "customer_lifecycle_events.customer_id",
    "relationship_evaluations.customer_id",
}  # fmt: skip


@pytest.fixture
async def pair(db, gql_as):
    """A survivor and a merged customer, each with one of every related record."""
    t = await make_tenant(db, f"dedup-m{uuid.uuid4().hex[:6]}")
    admin = await gql_as(t.admin_email)
    survivor = await create_customer(
        admin, name="华东机械有限公司", phone="021 5555 0001", tags=["老客户"],
        lifecycleStage="NEW", notes="第一次拜访",
    )  # fmt: skip
    # The merged one is a converted lead: leads.converted_customer_id points at it.
    lead = await ok(
        admin,
        f"mutation($i: CreateLeadInput!) {{ createLead(input: $i) {{ lead {{ id version }} {E} }} }}",
        {"i": {"name": "王强", "companyName": "华东机械", "phone": "13812345678"}},
        "createLead",
        "lead",
    )
    for status in ("CONTACTED", "QUALIFIED"):
        lead = await ok(
            admin,
            f"mutation($id: ID!, $i: UpdateLeadInput!) {{ updateLead(id: $id, input: $i) {{ lead {{ id version }} {E} }} }}",
            {"id": lead["id"], "i": {"status": status}},
            "updateLead",
            "lead",
        )
    converted = await ok(
        admin,
        f"mutation($id: ID!, $i: ConvertLeadInput) {{ convertLead(id: $id, input: $i) {{ lead {{ convertedCustomer {{ id }} }} {E} }} }}",
        {"id": lead["id"], "i": {"customer": {"tags": ["展会"], "lifecycleStage": "REPEAT",
                                              "notes": "展会认识", "email": "sales@huadong.cn"}}},
        "convertLead",
        "lead",
    )  # fmt: skip
    merged_gid = converted["convertedCustomer"]["id"]
    made = {"survivor": await populate(admin, survivor["id"], "S")}
    made["merged"] = await populate(admin, merged_gid, "M")
    # Both attend the same activity (an attendance that would clash after the move).
    activity = await ok(
        admin,
        f"mutation($i: CreateActivityInput!) {{ createActivity(input: $i) {{ activity {{ id }} {E} }} }}",
        {"i": {"name": "展会", "kind": "EXHIBITION", "startsAt": "2026-09-20T09:00:00+08:00"}},
        "createActivity",
        "activity",
    )
    attend = f"mutation($a: ID!, $x: [AddActivityAttendeeInput!]!) {{ addActivityAttendees(activityId: $a, attendees: $x) {{ attendees {{ id }} {E} }} }}"
    for cid in (survivor["id"], merged_gid):
        await ok(admin, attend, {"a": activity["id"], "x": [{"customerId": cid}]},
                 "addActivityAttendees", "attendees")  # fmt: skip
    other_activity = await ok(
        admin,
        f"mutation($i: CreateActivityInput!) {{ createActivity(input: $i) {{ activity {{ id }} {E} }} }}",
        {"i": {"name": "网络研讨会", "kind": "WEBINAR", "startsAt": "2026-10-20T09:00:00+08:00"}},
        "createActivity",
        "activity",
    )
    await ok(admin, attend, {"a": other_activity["id"], "x": [{"customerId": merged_gid}]},
             "addActivityAttendees", "attendees")  # fmt: skip
    return {
        "t": t,
        "admin": admin,
        "survivor": pk(survivor["id"]),
        "merged": pk(merged_gid),
        "made": made,
    }


async def test_merge_moves_every_related_record_and_undo_restores_exactly(db, pair) -> None:
    t, admin = pair["t"], pair["admin"]
    s_id, m_id = pair["survivor"], pair["merged"]
    before_s = await references(db, t, s_id)
    before_m = await references(db, t, m_id)
    assert set(before_m) >= EVERY_TABLE, EVERY_TABLE - set(before_m)
    async with db.tenant(t.ref).read() as session:
        s_row = await session.get(Customer, s_id)
        s_fields = {c.key: getattr(s_row, c.key) for c in Customer.__table__.columns}
        attendee_rows = set((await session.execute(select(ActivityAttendee.id))).scalars())

    result = (
        await admin(
            MERGE,
            {"s": gid("Customer", s_id), "m": gid("Customer", m_id),
             "c": [{"field": "phone", "from": "MERGED"}]},
        )
    )["mergeCustomers"]  # fmt: skip
    assert result["errors"] == [], result
    survivor = result["survivor"]
    assert survivor["phone"] == "+8613812345678"  # the explicit choice
    assert survivor["email"] == "sales@huadong.cn"  # empty on the survivor: taken
    assert sorted(survivor["tags"]) == ["展会", "老客户"]  # union
    assert survivor["lifecycleStage"] == "REPEAT"  # furthest along
    after_s = await references(db, t, s_id)
    assert await references(db, t, m_id) == {}  # nothing points at the tombstone
    for key, ids in before_m.items():
        if key == "activity_attendees.customer_id":
            continue  # one of the two attendances clashed; checked below
        assert ids <= after_s[key], key
    # The clashing attendance was removed, the other moved; one primary contact remains.
    assert len(after_s["activity_attendees.customer_id"]) == 2  # its own + the moved one
    async with db.tenant(t.ref).read() as session:
        primaries = (
            (
                await session.execute(
                    select(Contact.id).where(
                        Contact.customer_id == s_id, Contact.is_primary.is_(True)
                    )
                )
            )
            .scalars()
            .all()
        )
        assert len(primaries) == 1 and pk(pair["made"]["survivor"]["contact"]) in primaries
        tomb = await session.get(Customer, m_id)
        assert tomb.merged_into_id == s_id and tomb.deleted_at is not None
        # The audit trail of both ids reads from the survivor.
        trail = await merging.audit_trail(session, t.admin, s_id)
        assert {e.entity_id for e in trail} == {s_id, m_id}
    moved_counts = {m["table"]: m["count"] for m in result["merge"]["moved"]}
    assert set(moved_counts) >= EVERY_TABLE

    # The tombstone: null from customer(id) and node(id), absent from lists (deleted included).
    m_gid = gid("Customer", m_id)
    assert (await admin(GET_CUSTOMER, {"id": m_gid}))["customer"] is None
    assert (await admin(NODE, {"id": m_gid}))["node"] is None
    listed = await admin(
        "query { customers(first: 50, includeDeleted: true) { edges { node { id } } } }"
    )
    assert m_gid not in {e["node"]["id"] for e in listed["customers"]["edges"]}
    restored = await admin(
        f"mutation($id: ID!) {{ restoreCustomer(id: $id) {{ customer {{ id }} {E} }} }}",
        {"id": m_gid},
    )
    assert restored["restoreCustomer"]["errors"][0]["code"] == "CONFLICT"

    undone = (await admin(UNDO, {"id": result["merge"]["id"]}))["undoMerge"]
    assert undone["errors"] == [] and undone["keptFields"] == [], undone
    after_undo = await references(db, t, s_id)
    # The survivor's stage went NEW → REPEAT → NEW: two new history events, nothing else.
    events = "customer_lifecycle_events.customer_id"
    assert len(after_undo.pop(events) - before_s[events]) == 2
    assert after_undo == {k: v for k, v in before_s.items() if k != events}
    assert await references(db, t, m_id) == before_m
    async with db.tenant(t.ref).read() as session:
        s_row = await session.get(Customer, s_id)
        for name, value in s_fields.items():
            if name in ("version", "updated_at", "updated_by", "search_text"):
                continue
            assert getattr(s_row, name) == value, name
        m_row = await session.get(Customer, m_id)
        assert m_row.deleted_at is None and m_row.merged_into_id is None
        assert set((await session.execute(select(ActivityAttendee.id))).scalars()) == attendee_rows
        primary = await session.get(Contact, pk(pair["made"]["merged"]["contact"]))
        assert primary.is_primary is True
    again = (await admin(UNDO, {"id": result["merge"]["id"]}))["undoMerge"]
    assert again["errors"][0]["code"] == "CONFLICT"


async def test_undo_refused_when_a_moved_row_changed_owner(db, pair) -> None:
    t, admin = pair["t"], pair["admin"]
    s_id, m_id = pair["survivor"], pair["merged"]
    result = (await admin(MERGE, {"s": gid("Customer", s_id), "m": gid("Customer", m_id)}))[
        "mergeCustomers"
    ]
    assert result["errors"] == []
    third = await create_customer(admin, name="第三方公司")
    moved_interaction = pk(pair["made"]["merged"]["interaction"])
    async with db.tenant(t.ref).transaction() as session:
        from crm_core.interactions.models import Interaction

        row = await session.get(Interaction, moved_interaction)
        row.customer_id = pk(third["id"])
    refused = (await admin(UNDO, {"id": result["merge"]["id"]}))["undoMerge"]
    assert refused["errors"][0]["code"] == "CONFLICT"
    assert "interactions" in refused["errors"][0]["message"]
    async with db.tenant(t.ref).read() as session:
        assert (await session.get(Customer, m_id)).merged_into_id == s_id  # nothing undone


async def test_a_failure_midway_leaves_everything_as_it_was(db, pair, monkeypatch) -> None:
    t = pair["t"]
    s_id, m_id = pair["survivor"], pair["merged"]
    before = (await references(db, t, s_id), await references(db, t, m_id))
    real = merging.customer_references
    broken = Table("no_such_table", MetaData(), Column("id", Uuid, primary_key=True),
                   Column("customer_id", Uuid))  # fmt: skip

    def failing():  # every real table moves first, then the statement on a missing table fails
        return [*real(), (broken, broken.c.customer_id)]

    monkeypatch.setattr(merging, "customer_references", failing)
    with pytest.raises(Exception, match="no_such_table"):
        async with db.tenant(t.ref).transaction() as session:
            await merging.merge_customers(session, t.admin, s_id, m_id)
    monkeypatch.setattr(merging, "customer_references", real)
    assert (await references(db, t, s_id), await references(db, t, m_id)) == before
    async with db.tenant(t.ref).read() as session:
        assert (await session.get(Customer, m_id)).deleted_at is None
        assert (await session.execute(select(CustomerMerge))).first() is None
        assert (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "merge_move"))
        ).first() is None


KILL_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, uuid
    from crm_core.db.engine import Database
    from crm_core.dedup import merge
    from crm_core.identity.principal import Principal
    from crm_core.settings import load_settings
    from crm_core.tenancy import TenantRef
    from crm_core.tenants.models import Role

    async def main():
        tenant = TenantRef(id=uuid.UUID(sys.argv[1]), slug="x")
        db = Database.create(load_settings())
        who = Principal(user_id=uuid.UUID(sys.argv[4]), tenant=tenant, role=Role.admin)
        async with db.tenant(tenant).transaction() as session:
            await merge.merge_customers(session, who, uuid.UUID(sys.argv[2]), uuid.UUID(sys.argv[3]))
            await session.flush()
            print("MERGED-NOT-COMMITTED", flush=True)
            await asyncio.sleep(600)

    asyncio.run(main())
    """
)


async def test_kill_9_mid_merge_leaves_no_partial_merge(db, pair, settings, tmp_path) -> None:
    t = pair["t"]
    s_id, m_id = pair["survivor"], pair["merged"]
    before = (await references(db, t, s_id), await references(db, t, m_id))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_ENVIRONMENT="test", CRM_DATABASE_URL=settings.require_database_url(),
               CRM_REDIS_URL=settings.require_redis_url())  # fmt: skip
    log = tmp_path / "merge.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, str(t.ref.id), str(s_id), str(m_id),
             str(t.admin.user_id)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "MERGED-NOT-COMMITTED" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        # Every row has moved inside the open transaction; now the process dies.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (await references(db, t, s_id), await references(db, t, m_id)) == before
    # The locks died with the connection: a real merge goes through now.
    async with db.tenant(t.ref).transaction() as session:
        record = await merging.merge_customers(session, t.admin, s_id, m_id)
    assert record.moved


async def test_dismiss_auto_merge_and_settings(db, gql_as) -> None:
    t = await make_tenant(db, f"dedup-auto{uuid.uuid4().hex[:6]}")
    admin = await gql_as(t.admin_email)
    a1 = await make(db, t, name="李明", kind="individual", phone="13500001111")
    a2 = await make(db, t, name="Li Ming", kind="individual", phone="135 0000 1111")
    b1 = await make(db, t, name="杭州云帆网络科技有限公司", kind="company", city="杭州市")
    b2 = await make(db, t, name="云帆网络", kind="company", city="杭州市")
    await service.run_scan(db.tenant(t.ref), t.ref, kinds=["customer"])
    found = await candidates_of(db, t)
    weak = found[frozenset((b1, b2))]
    assert 0.5 <= weak.score < 0.95  # a name alone: for review, not for merging
    dismissed = (await admin(DISMISS, {"id": gid("DuplicateCandidate", weak.id)}))[
        "dismissDuplicate"
    ]
    assert dismissed["candidate"]["status"] == "DISMISSED"
    bad = (await admin(SETTINGS, {"i": {"autoMergeThreshold": 1.5}}))["setDedupSettings"]
    assert bad["errors"][0]["field"] == "input.autoMergeThreshold"
    set_ = (await admin(SETTINGS, {"i": {"autoMergeThreshold": 0.95}}))["setDedupSettings"]
    assert set_["dedupSettings"]["autoMergeThreshold"] == 0.95
    result = await service.run_scan(db.tenant(t.ref), t.ref, kinds=["customer"])
    assert len(result.auto_merged) == 1
    after = await candidates_of(db, t)
    assert after[frozenset((b1, b2))].status is CandidateStatus.dismissed  # stays dismissed
    assert after[frozenset((a1, a2))].status is CandidateStatus.merged
    async with db.tenant(t.ref).read() as session:
        record = (await session.execute(select(CustomerMerge))).scalar_one()
        assert record.automatic and record.survivor_id == a1 and record.merged_by is None
    # Undo window 0 days: too late to undo.
    await admin(SETTINGS, {"i": {"undoWindowDays": 0}})
    late = (await admin(UNDO, {"id": gid("CustomerMerge", record.id)}))["undoMerge"]
    assert late["errors"][0]["code"] == "INVALID"


def test_block_cap_keeps_pairs_near_linear() -> None:
    stmt = str(scan.customer_pairs_statement(7).compile())
    assert "count(*) BETWEEN" in stmt


async def test_start_duplicate_scan_enqueues_one_job(db, world) -> None:
    from crm_core.jobs.models import Job

    doc = f"mutation($k: [String!]) {{ startDuplicateScan(kinds: $k) {{ jobId {E} }} }}"
    first = (await world["admin_a"](doc, {"k": ["customer"]}))["startDuplicateScan"]
    again = (await world["admin_a"](doc, {"k": ["customer"]}))["startDuplicateScan"]
    assert first["errors"] == [] and first["jobId"]
    async with db.tenant(world["a"].ref).read() as session:
        job = await session.get(Job, pk(first["jobId"]))
        assert job is not None and job.kind == "dedup.scan_duplicates"
        assert job.params == {"kinds": ["customer"]}
    # The same minute answers the same job (idempotency key), unless the minute just turned.
    assert again["jobId"] == first["jobId"] or again["errors"] == []
    bad = (await world["admin_a"](doc, {"k": ["everything"]}))["startDuplicateScan"]
    assert bad["errors"][0]["field"] == "kinds"
    body = (await world["sales_a"].post(doc, {})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
