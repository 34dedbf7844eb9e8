"""The generic verbs on the sales and service entities: `<things>GroupBy` (by field, by calendar
bucket, with measures), connection `aggregates`, and `update<Things>(filter, input)` — bounded,
all or nothing, audited, within the viewer's scope and tenant. Opportunities in depth (the sales
pipeline report groups them by stage and by expected close month); one smoke test per other
entity that the group-by exists and counts what the list shows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crmtest import make_tenant
from gqldocs import create_customer
from sqlalchemy import select

from crm_api.relay import to_global_id
from crm_core.audit.models import AuditEntry

ERRORS = "errors { field code message }"
CREATE_OPP = f"""
mutation($c: ID!, $i: CreateOpportunityInput!) {{
  createOpportunity(customerId: $c, input: $i) {{ opportunity {{ id stage expectedAmount }} {ERRORS} }}
}}"""
BULK_OPP = f"""
mutation($filter: OpportunityFilter!, $i: UpdateOpportunityInput!) {{
  updateOpportunities(filter: $filter, input: $i) {{
    count opportunities {{ id source progress version products {{ quantity product {{ code }} }} }} {ERRORS}
  }}
}}"""
OPP_LIST = """
query($filter: OpportunityFilter, $f: [String!]!) {
  opportunities(first: 1, filter: $filter) { totalCount aggregates(fields: $f) { field sum avg min max } }
}"""
CREATE_PRODUCT = f"""
mutation($i: CreateProductInput!) {{ createProduct(input: $i) {{ product {{ id code }} {ERRORS} }} }}"""
CREATE_ORDER = f"""
mutation($c: ID!, $i: CreateOrderInput!) {{
  createOrder(customerId: $c, input: $i) {{ order {{ id totalAmount status }} {ERRORS} }}
}}"""
BULK_ORDERS = f"""
mutation($filter: OrderFilter!, $i: UpdateOrderInput!) {{
  updateOrders(filter: $filter, input: $i) {{
    count orders {{ id totalAmount lines {{ quantity product {{ code }} }} }} {ERRORS}
  }}
}}"""
ORDER_LIST = """
query($filter: OrderFilter, $f: [String!]!) {
  orders(first: 1, filter: $filter) { totalCount aggregates(fields: $f) { field sum avg min max } }
}"""
CREATE_CONTRACT = f"""
mutation($c: ID!, $i: CreateContractInput!) {{
  createContract(customerId: $c, input: $i) {{ contract {{ id amount }} {ERRORS} }}
}}"""
CONTRACT_LIST = """
query($filter: ContractFilter, $f: [String!]!) {
  contracts(first: 1, filter: $filter) { totalCount aggregates(fields: $f) { field sum avg min max } }
}"""
CREATE_DELIVERY = f"""
mutation($c: ID!, $i: CreateContractDeliveryInput!) {{
  createContractDelivery(contractId: $c, input: $i) {{ contractDelivery {{ id }} {ERRORS} }}
}}"""
CREATE_REQ = f"""
mutation($c: ID!, $i: CreateRequirementAnalysisInput!) {{
  createRequirementAnalysis(customerId: $c, input: $i) {{ requirementAnalysis {{ id }} {ERRORS} }}
}}"""
CREATE_LEAD = (
    f"mutation($i: CreateLeadInput!) {{ createLead(input: $i) {{ lead {{ id }} {ERRORS} }} }}"
)
CREATE_ACTIVITY = f"mutation($i: CreateActivityInput!) {{ createActivity(input: $i) {{ activity {{ id }} {ERRORS} }} }}"
CREATE_PLAN = f"""
mutation($c: ID!, $i: CreateVisitPlanInput!) {{
  createVisitPlan(customerId: $c, input: $i) {{ visitPlan {{ id }} {ERRORS} }}
}}"""
CREATE_RECORD = f"""
mutation($c: ID!, $i: CreateVisitRecordInput!) {{
  createVisitRecord(customerId: $c, input: $i) {{ visitRecord {{ id }} {ERRORS} }}
}}"""
CREATE_CRIT = f"""
mutation($i: CreateEvaluationCriterionInput!) {{
  createEvaluationCriterion(input: $i) {{ evaluationCriterion {{ id }} {ERRORS} }}
}}"""
CREATE_EVAL = f"""
mutation($c: ID!, $i: CreateRelationshipEvaluationInput!) {{
  createRelationshipEvaluation(customerId: $c, input: $i) {{ relationshipEvaluation {{ id }} {ERRORS} }}
}}"""
BULK_EVALS = f"""
mutation($filter: RelationshipEvaluationFilter!, $i: UpdateRelationshipEvaluationInput!) {{
  updateRelationshipEvaluations(filter: $filter, input: $i) {{
    count relationshipEvaluations {{ id totalScore scores {{ score }} }} {ERRORS}
  }}
}}"""
UPDATE_CUSTOMER = f"""
mutation($id: ID!, $i: UpdateCustomerInput!) {{
  updateCustomer(id: $id, input: $i) {{ customer {{ id }} {ERRORS} }}
}}"""
CREATE_TAG = f"mutation($i: CreateTagInput!) {{ createTag(input: $i) {{ tag {{ id }} {ERRORS} }} }}"
BULK_TAGS = f"""
mutation($filter: TagFilter!, $i: UpdateTagInput!) {{
  updateTags(filter: $filter, input: $i) {{ count tags {{ id name category }} {ERRORS} }}
}}"""


def group_doc(field: str, type_name: str, *, measures: bool = False, filter_type: str = "") -> str:
    filter_type = filter_type or f"{type_name}Filter"
    m_var = f", $m: [{type_name}Measure!]" if measures else ""
    m_arg = ", measures: $m" if measures else ""
    return f"""
query($by: [{type_name}GroupKey!]!, $filter: {filter_type}{m_var}) {{
  {field}(by: $by, filter: $filter{m_arg}) {{
    truncated groups {{ count keys {{ field value }} measures {{ field sum avg min max }} }}
  }}
}}"""


OPP_GROUP = group_doc("opportunitiesGroupBy", "Opportunity", measures=True)


async def ok(gql, doc, variables, name, key):
    result = (await gql(doc, variables))[name]
    assert result["errors"] == [], result
    return result[key]


async def grouped(gql, doc, field, by, **variables):
    result = (await gql(doc, {"by": by, **variables}))[field]
    return [
        (tuple(k["value"] for k in g["keys"]), g["count"], g["measures"]) for g in result["groups"]
    ]


def counts(groups):
    return [(keys, count) for keys, count, _ in groups]


def sums(groups):
    return [(keys, count, [m["sum"] for m in measures]) for keys, count, measures in groups]


async def deal(gql, customer_id, **fields):
    data = {"name": "分组机会", **fields}
    return await ok(
        gql, CREATE_OPP, {"c": customer_id, "i": data}, "createOpportunity", "opportunity"
    )


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "grp-domain")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    first = await create_customer(admin, name="分组机会客户甲")
    second = await create_customer(admin, name="分组机会客户乙")
    rep_customer = await create_customer(sales, name="Rep pipeline customer")
    o1 = await deal(
        admin,
        first["id"],
        stage="qualification",
        expectedAmount="1000",
        expectedCloseOn="2026-03-10",
    )
    o2 = await deal(
        admin, first["id"], stage="proposal", expectedAmount="2500.50", expectedCloseOn="2026-03-25"
    )
    o3 = await deal(
        admin, second["id"], stage="proposal", expectedAmount="4000", expectedCloseOn="2026-04-02"
    )
    r1 = await deal(
        sales,
        rep_customer["id"],
        stage="qualification",
        expectedAmount="700",
        expectedCloseOn="2026-04-15",
    )
    b_customer = await create_customer(b, name="别家分组机会")
    b1 = await deal(
        b, b_customer["id"], stage="proposal", expectedAmount="9999", expectedCloseOn="2026-03-01"
    )
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "b": b,
        "first": first,
        "second": second,
        "rep_customer": rep_customer,
        "ids": {"o1": o1["id"], "o2": o2["id"], "o3": o3["id"], "r1": r1["id"], "b1": b1["id"]},
    }


async def test_opportunities_group_by_stage_and_close_month_with_amounts(world) -> None:
    admin = world["admin"]
    by_stage = await grouped(
        admin, OPP_GROUP, "opportunitiesGroupBy", [{"field": "STAGE"}], m=["EXPECTED_AMOUNT"]
    )
    assert sums(by_stage) == [(("proposal",), 2, ["6500.50"]), (("qualification",), 2, ["1700.00"])]
    assert by_stage[0][2] == [
        {
            "field": "expectedAmount",
            "sum": "6500.50",
            "avg": "3250.25",
            "min": "2500.50",
            "max": "4000.00",
        }
    ]
    by_month = await grouped(
        admin,
        OPP_GROUP,
        "opportunitiesGroupBy",
        [{"field": "EXPECTED_CLOSE_ON", "bucket": "MONTH"}],
        m=["EXPECTED_AMOUNT"],
    )
    assert sums(by_month) == [(("2026-03-01",), 2, ["3500.50"]), (("2026-04-01",), 2, ["4700.00"])]
    both = await grouped(
        admin,
        OPP_GROUP,
        "opportunitiesGroupBy",
        [{"field": "EXPECTED_CLOSE_ON", "bucket": "MONTH"}, {"field": "STAGE"}],
        m=["EXPECTED_AMOUNT", "PROBABILITY"],
        filter={"customerId": {"in": [world["first"]["id"], world["second"]["id"]]}},
    )
    assert [(k, c, [m["field"] for m in ms]) for k, c, ms in both] == [
        (("2026-03-01", "proposal"), 1, ["expectedAmount", "probability"]),
        (("2026-03-01", "qualification"), 1, ["expectedAmount", "probability"]),
        (("2026-04-01", "proposal"), 1, ["expectedAmount", "probability"]),
    ]
    by_customer = await grouped(
        admin, OPP_GROUP, "opportunitiesGroupBy", [{"field": "CUSTOMER_ID"}]
    )
    assert sorted(counts(by_customer)) == sorted(
        [
            ((world["first"]["id"],), 2),
            ((world["second"]["id"],), 1),
            ((world["rep_customer"]["id"],), 1),
        ]
    )
    by_outcome = await grouped(admin, OPP_GROUP, "opportunitiesGroupBy", [{"field": "OUTCOME"}])
    assert counts(by_outcome) == [(("OPEN",), 4)]


async def test_opportunities_group_by_and_aggregates_are_scoped(world) -> None:
    mine = await grouped(
        world["sales"],
        OPP_GROUP,
        "opportunitiesGroupBy",
        [{"field": "STAGE"}],
        m=["EXPECTED_AMOUNT"],
    )
    assert sums(mine) == [(("qualification",), 1, ["700.00"])]
    theirs = await grouped(
        world["b"], OPP_GROUP, "opportunitiesGroupBy", [{"field": "STAGE"}], m=["EXPECTED_AMOUNT"]
    )
    b_total = (await world["b"](OPP_LIST, {"f": ["expectedAmount"]}))["opportunities"]
    assert sum(c for _, c, _ in theirs) == b_total["totalCount"]
    assert all(s != ["6500.50"] for _, _, s in sums(theirs))
    page = (await world["admin"](OPP_LIST, {"f": ["expectedAmount", "probability"]}))[
        "opportunities"
    ]
    assert page["totalCount"] == 4
    assert page["aggregates"][0] == {
        "field": "expectedAmount",
        "sum": "8200.50",
        "avg": "2050.12",  # half to even
        "min": "700.00",
        "max": "4000.00",
    }
    with pytest.raises(AssertionError, match="not a measure"):
        await world["admin"](OPP_LIST, {"f": ["name"]})


async def test_update_opportunities_by_filter_audited_scoped_and_bounded(
    db, world, monkeypatch
) -> None:
    ids = world["ids"]
    moved = (
        await world["admin"](
            BULK_OPP, {"filter": {"stage": {"eq": "proposal"}}, "i": {"source": "展会 Fair"}}
        )
    )["updateOpportunities"]
    assert moved["errors"] == [] and moved["count"] == 2
    assert {i["id"] for i in moved["opportunities"]} == {ids["o2"], ids["o3"]}
    assert all(i["source"] == "展会 Fair" and i["version"] == 2 for i in moved["opportunities"])
    async with db.tenant(world["t"].ref).read() as session:
        audits = (
            (
                await session.execute(
                    select(AuditEntry).where(
                        AuditEntry.entity == "opportunity", AuditEntry.action == "update"
                    )
                )
            )
            .scalars()
            .all()
        )
    changed = {
        to_global_id("Opportunity", a.entity_id)
        for a in audits
        if a.changes.get("source") == [None, "展会 Fair"]
    }
    assert changed == {ids["o2"], ids["o3"]}, [a.changes for a in audits]

    # The sales rep reaches only the opportunities of its own customers; tenant B none of A's.
    rep = (
        await world["sales"](
            BULK_OPP, {"filter": {"currency": {"eq": "CNY"}}, "i": {"progress": "rep call"}}
        )
    )["updateOpportunities"]
    assert rep["errors"] == [] and rep["count"] == 1 and rep["opportunities"][0]["id"] == ids["r1"]
    other = (
        await world["b"](
            BULK_OPP, {"filter": {"id": {"in": [ids["o1"], ids["o2"]]}}, "i": {"progress": "x"}}
        )
    )["updateOpportunities"]
    assert other["count"] == 0 and other["errors"] == []

    # Lines are resolved per record: every matched opportunity gets the same new list.
    part = await ok(
        world["admin"],
        CREATE_PRODUCT,
        {"i": {"code": "GRP-LINE", "name": "Line part", "unitPrice": "10"}},
        "createProduct",
        "product",
    )
    relined = (
        await world["admin"](
            BULK_OPP,
            {
                "filter": {"customerId": {"eq": world["first"]["id"]}},
                "i": {"products": [{"productId": part["id"], "quantity": "3"}]},
            },
        )
    )["updateOpportunities"]
    assert relined["errors"] == [] and relined["count"] == 2
    assert [
        [(Decimal(p["quantity"]), p["product"]["code"]) for p in i["products"]]
        for i in relined["opportunities"]
    ] == [[(Decimal(3), "GRP-LINE")]] * 2
    bad_line = (
        await world["admin"](
            BULK_OPP,
            {
                "filter": {"customerId": {"eq": world["first"]["id"]}},
                "i": {"products": [{"productId": "nope", "quantity": "1"}]},
            },
        )
    )["updateOpportunities"]
    assert bad_line["count"] == 0
    assert bad_line["errors"][0]["field"] == "input.products.0.productId"

    # A refused move on one record changes none (won needs a reason and a step-by-step path).
    refused = (
        await world["admin"](
            BULK_OPP, {"filter": {"stage": {"eq": "qualification"}}, "i": {"stage": "won"}}
        )
    )["updateOpportunities"]
    assert refused["count"] == 0 and refused["errors"][0]["field"] == "input.stage"
    assert "(on " in refused["errors"][0]["message"]
    empty = (await world["admin"](BULK_OPP, {"filter": {}, "i": {"progress": "all"}}))[
        "updateOpportunities"
    ]
    assert empty["errors"][0]["code"] == "REQUIRED"

    from crm_api import bulk

    monkeypatch.setattr(bulk, "MAX_BULK_UPDATE", 2)
    too_many = (
        await world["admin"](
            BULK_OPP, {"filter": {"currency": {"eq": "CNY"}}, "i": {"source": "too many"}}
        )
    )["updateOpportunities"]
    assert too_many["count"] == 0 and too_many["errors"][0]["code"] == "LIMIT_EXCEEDED"
    still = await world["admin"](OPP_LIST, {"filter": {"source": {"eq": "too many"}}, "f": []})
    assert still["opportunities"]["totalCount"] == 0


async def test_orders_and_contracts_aggregates_group_by_and_bulk_lines(world) -> None:
    admin, first, second = world["admin"], world["first"], world["second"]
    pump = await ok(
        admin,
        CREATE_PRODUCT,
        {"i": {"code": "GRP-PUMP", "name": "Pump", "unitPrice": "100", "category": "泵"}},
        "createProduct",
        "product",
    )
    valve = await ok(
        admin,
        CREATE_PRODUCT,
        {"i": {"code": "GRP-VALVE", "name": "Valve", "unitPrice": "20.50", "category": "泵"}},
        "createProduct",
        "product",
    )
    for customer, quantity, day in ((first, "2", "2026-05-03"), (second, "1", "2026-06-20")):
        await ok(
            admin,
            CREATE_ORDER,
            {
                "c": customer["id"],
                "i": {"orderedOn": day, "lines": [{"productId": pump["id"], "quantity": quantity}]},
            },
            "createOrder",
            "order",
        )
    page = (await admin(ORDER_LIST, {"f": ["totalAmount", "paidAmount"]}))["orders"]
    assert page["totalCount"] == 2
    assert page["aggregates"] == [
        {
            "field": "totalAmount",
            "sum": "300.00",
            "avg": "150.00",
            "min": "100.00",
            "max": "200.00",
        },
        {"field": "paidAmount", "sum": "0.00", "avg": "0.00", "min": "0.00", "max": "0.00"},
    ]
    order_groups = group_doc("ordersGroupBy", "Order", measures=True)
    by_month = await grouped(
        admin,
        order_groups,
        "ordersGroupBy",
        [{"field": "STATUS"}, {"field": "ORDERED_ON", "bucket": "MONTH"}],
        m=["TOTAL_AMOUNT"],
    )
    assert sums(by_month) == [
        (("DRAFT", "2026-05-01"), 1, ["200.00"]),
        (("DRAFT", "2026-06-01"), 1, ["100.00"]),
    ]
    assert (await world["sales"](ORDER_LIST, {"f": ["totalAmount"]}))["orders"]["aggregates"][0][
        "sum"
    ] is None
    # The same new lines on every draft: each order resolves its own copy.
    relined = (
        await admin(
            BULK_ORDERS,
            {
                "filter": {"status": {"eq": "DRAFT"}},
                "i": {"lines": [{"productId": valve["id"], "quantity": "2"}]},
            },
        )
    )["updateOrders"]
    assert relined["errors"] == [] and relined["count"] == 2
    assert {i["totalAmount"] for i in relined["orders"]} == {"41.00"}

    for customer, amount, signed in (
        (first, "12000", "2026-01-05"),
        (second, "3000.50", "2026-02-11"),
    ):
        await ok(
            admin,
            CREATE_CONTRACT,
            {
                "c": customer["id"],
                "i": {
                    "name": "分组合同",
                    "startsOn": "2026-01-01",
                    "endsOn": "2026-12-31",
                    "amount": amount,
                    "signedOn": signed,
                },
            },
            "createContract",
            "contract",
        )
    contracts = (await admin(CONTRACT_LIST, {"f": ["amount"]}))["contracts"]
    assert contracts["totalCount"] == 2
    assert contracts["aggregates"] == [
        {
            "field": "amount",
            "sum": "15000.50",
            "avg": "7500.25",
            "min": "3000.50",
            "max": "12000.00",
        }
    ]
    contract_groups = group_doc("contractsGroupBy", "Contract", measures=True)
    by_signed = await grouped(
        admin,
        contract_groups,
        "contractsGroupBy",
        [{"field": "SIGNED_ON", "bucket": "QUARTER"}],
        m=["AMOUNT"],
    )
    assert sums(by_signed) == [(("2026-01-01",), 2, ["15000.50"])]


async def test_group_by_on_every_other_entity(db, gql_as) -> None:
    t = await make_tenant(db, "grp-smoke")
    admin = await gql_as(t.admin_email)
    customer = await create_customer(admin, name="冒烟客户", lifecycleStage="LEAD")
    other = await create_customer(admin, name="冒烟客户乙")
    cid = customer["id"]

    # Products: by category, with list-price totals.
    for code, category, price in (
        ("SM-1", "净水", "100"),
        ("SM-2", "净水", "50.50"),
        ("SM-3", "配件", "8"),
    ):
        await ok(
            admin,
            CREATE_PRODUCT,
            {"i": {"code": code, "name": code, "category": category, "unitPrice": price}},
            "createProduct",
            "product",
        )
    products = await grouped(
        admin,
        group_doc("productsGroupBy", "Product", measures=True),
        "productsGroupBy",
        [{"field": "CATEGORY"}],
        m=["UNIT_PRICE"],
    )
    assert sums(products) == [(("净水",), 2, ["150.50"]), (("配件",), 1, ["8.00"])]

    # Requirement analyses: by priority (the API's enum names).
    for priority in ("HIGH", "HIGH", "LOW"):
        await ok(
            admin,
            CREATE_REQ,
            {"c": cid, "i": {"summary": "需求", "priority": priority}},
            "createRequirementAnalysis",
            "requirementAnalysis",
        )
    requirements = await grouped(
        admin,
        group_doc("requirementAnalysesGroupBy", "RequirementAnalysis"),
        "requirementAnalysesGroupBy",
        [{"field": "PRIORITY"}],
    )
    assert counts(requirements) == [(("HIGH",), 2), (("LOW",), 1)]  # in stored-value order

    # Contract deliveries: by acceptance status.
    contract = await ok(
        admin,
        CREATE_CONTRACT,
        {"c": cid, "i": {"name": "交付合同", "startsOn": "2026-01-01", "endsOn": "2026-12-31"}},
        "createContract",
        "contract",
    )
    for due in ("2026-03-01", "2026-04-01"):
        await ok(
            admin,
            CREATE_DELIVERY,
            {"c": contract["id"], "i": {"dueOn": due, "content": "第一批"}},
            "createContractDelivery",
            "contractDelivery",
        )
    deliveries = await grouped(
        admin,
        group_doc("contractDeliveriesGroupBy", "ContractDelivery"),
        "contractDeliveriesGroupBy",
        [{"field": "ACCEPTANCE_STATUS"}, {"field": "DUE_ON", "bucket": "YEAR"}],
    )
    assert counts(deliveries) == [(("PENDING", "2026-01-01"), 2)]

    # Leads: by source, with score totals.
    for name, source in (("张三", "WEBSITE"), ("李四", "WEBSITE"), ("王五", "REFERRAL")):
        await ok(
            admin,
            CREATE_LEAD,
            {"i": {"name": name, "companyName": "冒烟公司", "source": source}},
            "createLead",
            "lead",
        )
    leads = await grouped(
        admin,
        group_doc("leadsGroupBy", "Lead", measures=True),
        "leadsGroupBy",
        [{"field": "SOURCE"}],
        m=["SCORE"],
    )
    assert sorted(counts(leads)) == [(("REFERRAL",), 1), (("WEBSITE",), 2)]

    # Activities: by kind, with capacity totals.
    for kind, capacity in (("EXHIBITION", 100), ("WEBINAR", 50), ("WEBINAR", 25)):
        await ok(
            admin,
            CREATE_ACTIVITY,
            {
                "i": {
                    "name": f"{kind} 活动",
                    "kind": kind,
                    "startsAt": "2026-09-20T09:00:00+08:00",
                    "endsAt": "2026-09-20T17:00:00+08:00",
                    "capacity": capacity,
                }
            },
            "createActivity",
            "activity",
        )
    activities = await grouped(
        admin,
        group_doc("activitiesGroupBy", "Activity", measures=True),
        "activitiesGroupBy",
        [{"field": "KIND"}],
        m=["CAPACITY"],
    )
    assert sums(activities) == [(("EXHIBITION",), 1, ["100"]), (("WEBINAR",), 2, ["75"])]

    # Visit plans by week, visit records by outcome with expenses.
    for planned in ("2026-06-01T10:00:00+08:00", "2026-06-03T10:00:00+08:00"):
        await ok(
            admin,
            CREATE_PLAN,
            {"c": cid, "i": {"plannedAt": planned, "purpose": "拜访"}},
            "createVisitPlan",
            "visitPlan",
        )
    plans = await grouped(
        admin,
        group_doc("visitPlansGroupBy", "VisitPlan"),
        "visitPlansGroupBy",
        [{"field": "PLANNED_AT", "bucket": "WEEK"}],
    )
    assert counts(plans) == [(("2026-06-01",), 2)]
    for outcome, expenses in (("A", "120.50"), ("A", "30"), ("C", None)):
        visit = {"visitedAt": "2026-06-01T10:30:00+08:00", "outcome": outcome}
        if expenses:
            visit["expenses"] = expenses
        await ok(admin, CREATE_RECORD, {"c": cid, "i": visit}, "createVisitRecord", "visitRecord")
    records = await grouped(
        admin,
        group_doc("visitRecordsGroupBy", "VisitRecord", measures=True),
        "visitRecordsGroupBy",
        [{"field": "OUTCOME"}],
        m=["EXPENSES"],
    )
    assert sums(records) == [
        (("A",), 2, ["150.50"]),
        (("C",), 1, ["0.00"]),
    ]  # expenses default to 0

    # Relationship evaluations: by customer, with total scores; and a bulk re-score.
    crit = await ok(
        admin,
        CREATE_CRIT,
        {"i": {"name": "忠诚度", "weight": "1"}},
        "createEvaluationCriterion",
        "evaluationCriterion",
    )
    for who, score in ((cid, 80), (cid, 40), (other["id"], 10)):
        await ok(
            admin,
            CREATE_EVAL,
            {"c": who, "i": {"scores": [{"criterionId": crit["id"], "score": score}]}},
            "createRelationshipEvaluation",
            "relationshipEvaluation",
        )
    evaluations = await grouped(
        admin,
        group_doc("relationshipEvaluationsGroupBy", "RelationshipEvaluation", measures=True),
        "relationshipEvaluationsGroupBy",
        [{"field": "CUSTOMER_ID"}],
        m=["TOTAL_SCORE"],
    )
    assert sorted((k, c, [Decimal(s) for s in m]) for k, c, m in sums(evaluations)) == sorted(
        [((cid,), 2, [Decimal(120)]), ((other["id"],), 1, [Decimal(10)])]
    )
    rescored = (
        await admin(
            BULK_EVALS,
            {
                "filter": {"customerId": {"eq": cid}},
                "i": {"scores": [{"criterionId": crit["id"], "score": 55}]},
            },
        )
    )["updateRelationshipEvaluations"]
    assert rescored["errors"] == [] and rescored["count"] == 2
    assert {Decimal(i["totalScore"]) for i in rescored["relationshipEvaluations"]} == {Decimal(55)}

    # Lifecycle events (read-only): by the stage moved to.
    moved = (await admin(UPDATE_CUSTOMER, {"id": cid, "i": {"lifecycleStage": "NEW"}}))[
        "updateCustomer"
    ]
    assert moved["errors"] == []
    lifecycle = await grouped(
        admin,
        group_doc("customerLifecycleEventsGroupBy", "CustomerLifecycleEvent"),
        "customerLifecycleEventsGroupBy",
        [{"field": "TO_STAGE"}],
        filter={"customerId": {"eq": cid}},
    )
    assert counts(lifecycle) == [(("LEAD",), 1), (("NEW",), 1)]

    # Tags: a catalogue tidy-up in one call.
    for name in ("旧一", "旧二"):
        await ok(admin, CREATE_TAG, {"i": {"name": name, "category": "旧"}}, "createTag", "tag")
    retagged = (
        await admin(BULK_TAGS, {"filter": {"category": {"eq": "旧"}}, "i": {"category": "新"}})
    )["updateTags"]
    assert retagged["errors"] == [] and retagged["count"] == 2
    assert {i["category"] for i in retagged["tags"]} == {"新"}
