"""The generic verbs made once for every type, exercised on complaints: `complaintsGroupBy` (by
field, by calendar bucket in the company's time zone, with measures), connection `aggregates`,
and `updateComplaints(filter, input)` — bounded, all or nothing, within the viewer's scope and
tenant."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import create_customer
from sqlalchemy import select

from crm_api.relay import to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.complaints.models import Complaint

ERRORS = "errors { field code message }"
CREATE = f"""
mutation($c: ID!, $i: CreateComplaintInput!) {{
  createComplaint(customerId: $c, input: $i) {{ complaint {{ id status }} {ERRORS} }}
}}"""
SETTLE = f"""
mutation($id: ID!, $i: UpdateComplaintInput!) {{
  updateComplaint(id: $id, input: $i) {{ complaint {{ id status }} {ERRORS} }}
}}"""
GROUP = """
query($by: [ComplaintGroupKey!]!, $filter: ComplaintFilter, $m: [ComplaintMeasure!], $tz: String, $first: Int! = 100) {
  complaintsGroupBy(by: $by, filter: $filter, measures: $m, timeZone: $tz, first: $first) {
    truncated groups { count keys { field value } measures { field sum avg min max } }
  }
}"""
AGG = """
query($filter: ComplaintFilter, $f: [String!]!) {
  complaints(first: 1, filter: $filter) { totalCount aggregates(fields: $f) { field sum avg min max } }
}"""
BULK = f"""
mutation($filter: ComplaintFilter!, $i: UpdateComplaintInput!) {{
  updateComplaints(filter: $filter, input: $i) {{ count complaints {{ id severity version }} {ERRORS} }}
}}"""


async def lodge(gql, customer_id, **fields):
    data = {"kind": "COMPLAINT", "description": "grouped", **fields}
    result = (await gql(CREATE, {"c": customer_id, "i": data}))["createComplaint"]
    assert result["errors"] == [], result
    return result["complaint"]


async def settle(gql, complaint_id, satisfaction):
    for step in ({"status": "IN_PROGRESS"}, {"status": "RESOLVED", "satisfaction": satisfaction}):
        result = (await gql(SETTLE, {"id": complaint_id, "i": step}))["updateComplaint"]
        assert result["errors"] == [], result


def rows(result):
    return [
        (tuple(k["value"] for k in g["keys"]), g["count"])
        for g in result["complaintsGroupBy"]["groups"]
    ]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "grp-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    customer = await create_customer(admin, name="分组客户")
    rep_customer = await create_customer(sales, name="Rep grouped customer")
    # Two in April (one of them 23:30 UTC on 30 April = 1 May in Shanghai), one in May.
    a1 = await lodge(admin, customer["id"], severity="HIGH", receivedAt="2026-04-10T09:00:00+08:00")
    a2 = await lodge(admin, customer["id"], severity="LOW", receivedAt="2026-04-30T23:30:00Z")
    a3 = await lodge(admin, customer["id"], severity="HIGH", receivedAt="2026-05-20T09:00:00+08:00")
    r1 = await lodge(
        sales, rep_customer["id"], severity="LOW", receivedAt="2026-04-11T09:00:00+08:00"
    )
    await settle(admin, a1["id"], 4)
    await settle(admin, a3["id"], 2)
    b_customer = await create_customer(b, name="别家分组")
    b1 = await lodge(b, b_customer["id"], severity="HIGH", receivedAt="2026-04-10T09:00:00+08:00")
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "b": b,
        "customer": customer,
        "ids": {"a1": a1["id"], "a2": a2["id"], "a3": a3["id"], "r1": r1["id"], "b1": b1["id"]},
    }


async def test_group_by_field_and_month_in_company_time_zone(world) -> None:
    gql = world["admin"]
    by_severity = await gql(GROUP, {"by": [{"field": "SEVERITY"}]})
    # Keys come back as the API's enum names, in the order of the stored values.
    assert rows(by_severity) == [(("HIGH",), 2), (("LOW",), 2)]
    by_month = await gql(GROUP, {"by": [{"field": "RECEIVED_AT", "bucket": "MONTH"}]})
    assert rows(by_month) == [(("2026-04-01",), 2), (("2026-05-01",), 2)]
    in_utc = await gql(GROUP, {"by": [{"field": "RECEIVED_AT", "bucket": "MONTH"}], "tz": "UTC"})
    assert rows(in_utc) == [(("2026-04-01",), 3), (("2026-05-01",), 1)]
    two_keys = await gql(
        GROUP,
        {
            "by": [{"field": "STATUS"}, {"field": "SEVERITY"}],
            "filter": {"customerId": {"eq": world["customer"]["id"]}},
            "m": ["SATISFACTION"],
        },
    )
    groups = {
        tuple(k["value"] for k in g["keys"]): (g["count"], g["measures"])
        for g in two_keys["complaintsGroupBy"]["groups"]
    }
    assert groups[("OPEN", "LOW")][0] == 1
    count, measures = groups[("RESOLVED", "HIGH")]
    assert count == 2
    assert measures == [
        {"field": "satisfaction", "sum": "6", "avg": "3.00", "min": "2", "max": "4"}
    ]
    by_customer = await gql(GROUP, {"by": [{"field": "CUSTOMER_ID"}]})
    values = {g["keys"][0]["value"] for g in by_customer["complaintsGroupBy"]["groups"]}
    assert world["customer"]["id"] in values and len(values) == 2


async def test_group_by_is_scoped_bounded_and_checked(world) -> None:
    by_severity = await world["sales"](GROUP, {"by": [{"field": "SEVERITY"}]})
    assert rows(by_severity) == [(("LOW",), 1)]
    other_tenant = await world["b"](GROUP, {"by": [{"field": "SEVERITY"}]})
    b_total = (await world["b"](AGG, {"f": []}))["complaints"]["totalCount"]
    assert sum(c for _, c in rows(other_tenant)) == b_total
    truncated = await world["admin"](GROUP, {"by": [{"field": "CUSTOMER_ID"}], "first": 1})
    assert truncated["complaintsGroupBy"]["truncated"] is True
    for variables, field in (
        ({"by": [{"field": "SEVERITY", "bucket": "MONTH"}]}, "by.0.bucket"),
        ({"by": [{"field": "SEVERITY"}], "tz": "Mars/Olympus"}, "timeZone"),
        ({"by": []}, "by"),
        ({"by": [{"field": "SEVERITY"}], "first": 0}, "first"),
    ):
        with pytest.raises(AssertionError) as failure:
            await world["admin"](GROUP, variables)
        assert field in str(failure.value)


async def test_group_by_costs_one_statement(world, count_statements) -> None:
    counter = count_statements()
    await world["admin"](
        GROUP, {"by": [{"field": "RECEIVED_AT", "bucket": "QUARTER"}], "tz": "Asia/Shanghai"}
    )
    assert counter.count == 2  # the caller's membership, then the one grouped statement


async def test_connection_aggregates_cover_every_matching_row(world) -> None:
    result = (await world["admin"](AGG, {"f": ["satisfaction"]}))["complaints"]
    assert result["totalCount"] == 4
    assert result["aggregates"] == [
        {"field": "satisfaction", "sum": "6", "avg": "3.00", "min": "2", "max": "4"}
    ]
    mine = (await world["sales"](AGG, {"f": ["satisfaction"]}))["complaints"]
    assert mine["aggregates"][0]["sum"] is None
    with pytest.raises(AssertionError, match="not a measure"):
        await world["admin"](AGG, {"f": ["description"]})


async def test_update_many_by_filter_in_scope_audited(db, world) -> None:
    ids = world["ids"]
    result = (
        await world["admin"](
            BULK, {"filter": {"severity": {"eq": "LOW"}}, "i": {"severity": "MEDIUM"}}
        )
    )["updateComplaints"]
    assert result["errors"] == [] and result["count"] == 2
    assert {i["id"] for i in result["complaints"]} == {ids["a2"], ids["r1"]}
    assert all(i["severity"] == "MEDIUM" and i["version"] == 2 for i in result["complaints"])
    async with db.tenant(world["t"].ref).read() as session:
        audits = (
            (
                await session.execute(
                    select(AuditEntry).where(
                        AuditEntry.entity == "complaint", AuditEntry.action == "update"
                    )
                )
            )
            .scalars()
            .all()
        )
    changed = {
        to_global_id("Complaint", a.entity_id)
        for a in audits
        if a.changes.get("severity") == ["low", "medium"]
    }
    assert changed == {ids["a2"], ids["r1"]}, [a.changes for a in audits]
    # The sales rep reaches only the complaints of its own customers; tenant B none of A's.
    rep = (
        await world["sales"](
            BULK, {"filter": {"severity": {"eq": "MEDIUM"}}, "i": {"productOrService": "Rep"}}
        )
    )["updateComplaints"]
    assert rep["count"] == 1 and rep["complaints"][0]["id"] == ids["r1"]
    other = (
        await world["b"](
            BULK, {"filter": {"id": {"in": [ids["a1"], ids["a2"]]}}, "i": {"severity": "LOW"}}
        )
    )["updateComplaints"]
    assert other["count"] == 0 and other["errors"] == []


async def test_update_many_refusals_change_nothing(db, world) -> None:
    admin = world["admin"]

    async def severities():
        async with db.tenant(world["t"].ref).read() as session:
            found = (await session.execute(select(Complaint.id, Complaint.severity))).all()
        return sorted((str(i), str(s)) for i, s in found)

    before = await severities()
    empty = (await admin(BULK, {"filter": {}, "i": {"severity": "LOW"}}))["updateComplaints"]
    assert empty["errors"][0]["field"] == "filter" and empty["errors"][0]["code"] == "REQUIRED"
    nothing = (await admin(BULK, {"filter": {"severity": {"eq": "HIGH"}}, "i": {}}))[
        "updateComplaints"
    ]
    assert nothing["errors"][0]["code"] == "REQUIRED"
    # One of the matched records refuses the change (OPEN cannot jump to CLOSED): none changes.
    refused = (
        await admin(
            BULK,
            {"filter": {"customerId": {"eq": world["customer"]["id"]}}, "i": {"status": "CLOSED"}},
        )
    )["updateComplaints"]
    assert refused["count"] == 0 and refused["errors"][0]["field"] == "input.status"
    assert "(on " in refused["errors"][0]["message"]
    bad_filter = (await admin(BULK, {"filter": {"id": {"eq": "nope"}}, "i": {"severity": "LOW"}}))[
        "updateComplaints"
    ]
    assert bad_filter["errors"][0]["field"] == "filter.id"
    assert await severities() == before


async def test_update_many_is_bounded(world, monkeypatch) -> None:
    from crm_api import bulk

    monkeypatch.setattr(bulk, "MAX_BULK_UPDATE", 2)
    matching = {"filter": {"customerId": {"eq": world["customer"]["id"]}}}
    result = (await world["admin"](BULK, {**matching, "i": {"productOrService": "Too many"}}))[
        "updateComplaints"
    ]
    assert result["count"] == 0
    assert result["errors"] == [
        {
            "field": "filter",
            "code": "LIMIT_EXCEEDED",
            "message": "matches more than 2 records; narrow it",
        }
    ]
    page = await world["admin"](AGG, {"filter": {"productOrService": {"eq": "Too many"}}, "f": []})
    assert page["complaints"]["totalCount"] == 0


CREATE_MANY = f"""
mutation($inputs: [CreateComplaintItemInput!]!) {{
  createComplaints(inputs: $inputs) {{ complaints {{ id description }} {ERRORS} }}
}}"""
CUSTOMERS_GROUP = """
query($by: [CustomerGroupKey!]!, $m: [CustomerMeasure!]) {
  customersGroupBy(by: $by, measures: $m) { groups { count keys { field value } measures { field sum } } }
}"""
UPDATE_CUSTOMERS = f"""
mutation($filter: CustomerFilter!, $i: UpdateCustomerInput!) {{
  updateCustomers(filter: $filter, input: $i) {{ count customers {{ id industry }} {ERRORS} }}
}}"""


async def test_create_many_under_customers_all_or_nothing(world) -> None:
    admin, customer = world["admin"], world["customer"]
    b_customer = await create_customer(world["b"], name="别家批量")
    item = {"customerId": customer["id"], "input": {"kind": "PRAISE", "description": "批量 1"}}
    made = (
        await admin(
            CREATE_MANY,
            {"inputs": [item, {**item, "input": {**item["input"], "description": "批量 2"}}]},
        )
    )["createComplaints"]
    assert made["errors"] == [] and [i["description"] for i in made["complaints"]] == [
        "批量 1",
        "批量 2",
    ]
    broken = (
        await admin(
            CREATE_MANY,
            {
                "inputs": [
                    {**item, "input": {**item["input"], "description": "never written"}},
                    {**item, "input": {"kind": "PRAISE", "description": ""}},
                    {"customerId": b_customer["id"], "input": item["input"]},
                ]
            },
        )
    )["createComplaints"]
    assert broken["complaints"] == []
    assert broken["errors"][0]["field"] == "inputs.1.input.description"
    search = await admin(AGG, {"filter": {}, "f": []})
    assert search["complaints"]["totalCount"] == 6
    foreign = (
        await admin(
            CREATE_MANY, {"inputs": [{"customerId": b_customer["id"], "input": item["input"]}]}
        )
    )["createComplaints"]
    assert foreign["errors"][0]["field"] == "inputs.0.customerId"
    assert foreign["errors"][0]["code"] == "NOT_FOUND"


async def test_customers_group_by_update_many_and_masking(db, gql_as) -> None:
    t = await make_tenant(db, "grp-customers")
    admin, viewer = await gql_as(t.admin_email), await gql_as(t.viewer_email)
    for name, industry, km in (("甲", "制造", "10.5"), ("乙", "制造", "20"), ("丙", "零售", None)):
        await create_customer(admin, name=name, industry=industry, gender="FEMALE", distanceKm=km)
    grouped = (await admin(CUSTOMERS_GROUP, {"by": [{"field": "INDUSTRY"}], "m": ["DISTANCE_KM"]}))[
        "customersGroupBy"
    ]["groups"]
    assert [(g["keys"][0]["value"], g["count"], g["measures"][0]["sum"]) for g in grouped] == [
        ("制造", 2, "30.50"),
        ("零售", 1, None),
    ]
    with pytest.raises(AssertionError, match="personal data"):
        await viewer(CUSTOMERS_GROUP, {"by": [{"field": "BIRTH_DATE", "bucket": "YEAR"}]})
    assert (await viewer(CUSTOMERS_GROUP, {"by": [{"field": "INDUSTRY"}]}))["customersGroupBy"]
    moved = (
        await admin(
            UPDATE_CUSTOMERS,
            {"filter": {"industry": {"eq": "制造"}}, "i": {"industry": "智能制造"}},
        )
    )["updateCustomers"]
    assert moved["errors"] == [] and moved["count"] == 2
    assert {i["industry"] for i in moved["customers"]} == {"智能制造"}
    with pytest.raises(AssertionError, match="customer:update"):
        await viewer(
            UPDATE_CUSTOMERS, {"filter": {"industry": {"eq": "零售"}}, "i": {"industry": "x"}}
        )
