"""Sales opportunities (销售机会表): lifecycle with audit, product lines written as a whole list,
the per-company funnel (allowed and refused moves, a customised funnel and its validation), the
stage history written with every stage change, money rules, references that must stay inside the
customer and the company, data scope, permissions and constant statement counts."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import func, select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.opportunities.models import OpportunityStageHistory
from crm_core.tenants.models import Role

FIELDS = (
    "id name description customerNeed expectedAmount currency expectedCloseOn stage probability "
    "source progress outcome wonReason lostReason closedAt version deletedAt "
    "owner { name } customer { name } requirement { summary } "
    "products { quantity unitPrice amount product { code } } "
    "stageHistory { fromStage toStage probability expectedAmount changedBy { name } }"
)
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($c: ID!, $i: CreateOpportunityInput!) {{
  createOpportunity(customerId: $c, input: $i) {{ opportunity {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateOpportunityItemInput!]!) {{
  createOpportunities(inputs: $i) {{ opportunities {{ id name stage }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateOpportunityInput!, $v: Int) {{
  updateOpportunity(id: $id, input: $i, version: $v) {{ opportunity {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteOpportunity(id: $id, version: $v) {{ opportunity {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreOpportunity(id: $id) {{ opportunity {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = f"mutation($id: ID!) {{ destroyOpportunity(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ opportunity(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: OpportunityFilter, $order: [OpportunityOrderBy!], $search: String, $del: Boolean! = false) {
  opportunities(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id name stage outcome expectedAmount } }
  }
}"""
FUNNEL = "{ opportunityFunnel { key name probability next outcome } }"
SET_FUNNEL = f"""
mutation($s: [OpportunityStageInput!]!) {{
  setOpportunityFunnel(stages: $s) {{ stages {{ key probability next outcome }} {ERRORS} }}
}}"""
CREATE_PRODUCT = """
mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id code } errors { field code } } }"""
DESTROY_PRODUCT = (
    "mutation($id: ID!) { destroyProduct(id: $id) { destroyedId errors { field code } } }"
)
CREATE_REQ = """
mutation($c: ID!, $i: CreateRequirementAnalysisInput!) {
  createRequirementAnalysis(customerId: $c, input: $i) { requirementAnalysis { id } errors { field code } }
}"""
BASE = {"name": "三楼净水项目 Purifier deal"}


async def product(gql, **fields):
    data = {"name": "Product", "unitPrice": "100", **fields}
    result = (await gql(CREATE_PRODUCT, {"i": data}))["createProduct"]
    assert result["errors"] == [], result
    return result["product"]


async def requirement(gql, customer_id, summary="需要净水"):
    result = (await gql(CREATE_REQ, {"c": customer_id, "i": {"summary": summary}}))[
        "createRequirementAnalysis"
    ]
    assert result["errors"] == [], result
    return result["requirementAnalysis"]


async def open_deal(gql, customer_id, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {**BASE, **fields}}))["createOpportunity"]
    assert result["errors"] == [], result
    return result["opportunity"]


async def move(gql, opportunity_id, **fields):
    return (await gql(UPDATE, {"id": opportunity_id, "i": fields}))["updateOpportunity"]


def first_error(result):
    return (result["errors"][0]["field"], result["errors"][0]["code"])


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "op-alpha")
    admin = await gql_as(t.admin_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="机会镜像客户")
    mine = await create_customer(admin, name="机会客户")
    other = await create_customer(admin, name="机会别家")
    return {
        "t": t,
        "admin": admin,
        "sales": await gql_as(t.sales_email),
        "viewer": await gql_as(t.viewer_email),
        "mine": mine,
        "other": other,
        "sales_customer": await create_customer(
            await gql_as(t.sales_email), name="Rep Deal Customer"
        ),
        "req": await requirement(admin, mine["id"]),
        "other_req": await requirement(admin, other["id"], "别家的需求"),
        "p1": await product(admin, code="OP-P1", name="净水器 X1", unitPrice="1999.50"),
        "p2": await product(admin, code="OP-P2", name="Filter", unitPrice="80"),
        "usd": await product(admin, code="OP-USD", name="Import", currency="USD"),
        "inactive": await product(admin, code="OP-OLD", name="Old", active=False),
        "b": b,
        "b_customer": b_customer,
        "b_product": await product(b, code="OP-P1", name="镜像产品"),
        "b_deal": await open_deal(b, b_customer["id"], name="镜像机会 mirrored"),
        "b_sales": tenant_b.sales,
    }


async def test_create_read_update_delete_restore_destroy_with_audit(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    made = await open_deal(
        gql,
        mine["id"],
        requirementId=world["req"]["id"],
        customerNeed="Clean water on 3 floors",
        expectedCloseOn="2026-09-30",
        source="展会 exhibition",
        products=[
            {"productId": world["p1"]["id"], "quantity": "3"},
            {"productId": world["p2"]["id"], "quantity": "6", "unitPrice": "70"},
        ],
    )
    assert made["stage"] == "qualification" and made["probability"] == 10
    assert made["outcome"] == "OPEN" and made["closedAt"] is None and made["currency"] == "CNY"
    # The expected amount defaults to the lines' total: 3 × 1999.50 + 6 × 70.
    assert made["expectedAmount"] == "6418.50"
    assert made["products"] == [
        {
            "quantity": "3.000",
            "unitPrice": "1999.50",
            "amount": "5998.50",
            "product": {"code": "OP-P1"},
        },
        {
            "quantity": "6.000",
            "unitPrice": "70.00",
            "amount": "420.00",
            "product": {"code": "OP-P2"},
        },
    ]
    assert made["requirement"] == {"summary": "需要净水"} and made["owner"] == {"name": "Admin"}
    assert made["customer"] == {"name": "机会客户"}
    assert made["stageHistory"] == [
        {
            "fromStage": None,
            "toStage": "qualification",
            "probability": 10,
            "expectedAmount": "6418.50",
            "changedBy": {"name": "Admin"},
        }
    ]
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Opportunity"
    admin_id = to_global_id("User", world["t"].admin.user_id)
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "ownerId": {"eq": admin_id},
                    "requirementId": {"eq": world["req"]["id"]},
                    "outcome": {"eq": "OPEN"},
                    "stage": {"in": ["qualification", "proposal"]},
                    "probability": {"lte": 10},
                    "expectedAmount": {"gt": "6000"},
                    "expectedCloseOn": {"lt": "2026-10-01"},
                },
                "order": [{"field": "EXPECTED_CLOSE_ON", "direction": "ASC"}],
            },
        )
    )["opportunities"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]] and page["totalCount"] == 1
    for term in ("Purifier", "jingshui", "exhibition"):
        assert (await gql(LIST, {"first": 5, "search": term}))["opportunities"]["totalCount"] >= 1

    updated = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"progress": "Demo booked"}}))[
        "updateOpportunity"
    ]
    assert updated["errors"] == [] and updated["opportunity"]["version"] == 2
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"progress": "x"}}))[
        "updateOpportunity"
    ]
    assert first_error(stale) == ("version", "CONFLICT")
    # Lines only: the whole list is replaced and the version still moves.
    relined = (
        await gql(
            UPDATE,
            {
                "id": made["id"],
                "v": 2,
                "i": {"products": [{"productId": world["p2"]["id"], "quantity": "1.5"}]},
            },
        )
    )["updateOpportunity"]
    assert relined["errors"] == [] and relined["opportunity"]["version"] == 3
    assert relined["opportunity"]["products"] == [
        {
            "quantity": "1.500",
            "unitPrice": "80.00",
            "amount": "120.00",
            "product": {"code": "OP-P2"},
        }
    ]
    assert relined["opportunity"]["expectedAmount"] == "6418.50"  # kept: it is the seller's call
    assert len(relined["opportunity"]["stageHistory"]) == 1  # no stage change, no history row

    assert (await gql(DELETE, {"id": made["id"], "v": 3}))["deleteOpportunity"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["opportunity"] is None
    filt = {"customerId": {"eq": mine["id"]}, "id": {"eq": made["id"]}}
    assert (await gql(LIST, {"first": 5, "filter": filt, "del": True}))["opportunities"][
        "totalCount"
    ] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreOpportunity"]
    assert restored["errors"] == [] and restored["opportunity"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyOpportunity"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["opportunity"] is None

    pk = from_global_id(made["id"])[1]
    async with db.tenant(world["t"].ref).read() as session:
        rows = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.changes)
                .where(AuditEntry.entity_id == pk, AuditEntry.entity == "opportunity")
                .order_by(AuditEntry.at, AuditEntry.id)
            )
        ).all()
        assert [a for a, _ in rows] == [
            "create", "update", "update", "delete", "restore", "destroy"
        ]  # fmt: skip
        assert len(rows[0][1]["products"]) == 2
        before, after = rows[2][1]["products"]
        assert len(before) == 2 and after == [
            {
                "product_id": str(from_global_id(world["p2"]["id"])[1]),
                "quantity": "1.500",
                "unit_price": "80.00",
            }
        ]
        # The history went with the opportunity (ON DELETE CASCADE).
        left = select(func.count()).where(OpportunityStageHistory.opportunity_id == pk)
        assert (await session.execute(left)).scalar_one() == 0


async def test_default_funnel_moves_and_stage_history(db, world) -> None:
    gql = world["admin"]
    deal = await open_deal(gql, world["mine"]["id"], expectedAmount="5000")
    funnel = (await gql(FUNNEL))["opportunityFunnel"]
    assert [(s["key"], s["probability"]) for s in funnel] == [
        ("qualification", 10), ("needs_analysis", 25), ("proposal", 50),
        ("negotiation", 75), ("won", 100), ("lost", 0),
    ]  # fmt: skip
    assert funnel[4]["outcome"] == "WON" and funnel[5]["outcome"] == "LOST"

    skipped = await move(gql, deal["id"], stage="proposal", progress="rushed")
    assert first_error(skipped) == ("input.stage", "INVALID") and skipped["opportunity"] is None
    unknown = await move(gql, deal["id"], stage="teleported")
    assert first_error(unknown) == ("input.stage", "INVALID")
    early_win = await move(gql, deal["id"], stage="won")
    assert first_error(early_win) == ("input.stage", "INVALID")
    stored = (await gql(GET, {"id": deal["id"]}))["opportunity"]
    assert stored["stage"] == "qualification" and stored["progress"] is None

    step = await move(gql, deal["id"], stage="needs_analysis")
    assert step["errors"] == [] and step["opportunity"]["probability"] == 25
    chosen = await move(gql, deal["id"], stage="proposal", probability=60)
    assert chosen["opportunity"]["probability"] == 60  # given with the move: kept
    back = await move(gql, deal["id"], stage="needs_analysis")  # the funnel allows going back
    assert back["errors"] == [] and back["opportunity"]["probability"] == 25
    for stage in ("proposal", "negotiation"):
        assert (await move(gql, deal["id"], stage=stage))["errors"] == [], stage
    wrong_probability = await move(gql, deal["id"], stage="won", probability=90)
    assert first_error(wrong_probability) == ("input.probability", "INVALID")
    won = await move(gql, deal["id"], stage="won", wonReason="Best price and service")
    assert won["errors"] == [], won
    o = won["opportunity"]
    assert (o["outcome"], o["probability"], o["wonReason"]) == (
        "WON",
        100,
        "Best price and service",
    )
    assert o["closedAt"] is not None
    # Final: no way out, not even to lost; the probability of a closed deal is fixed.
    for stage in ("lost", "negotiation", "qualification"):
        assert first_error(await move(gql, deal["id"], stage=stage)) == ("input.stage", "INVALID")
    assert first_error(await move(gql, deal["id"], probability=50)) == (
        "input.probability",
        "INVALID",
    )
    assert [(h["fromStage"], h["toStage"], h["probability"]) for h in o["stageHistory"]] == [
        (None, "qualification", 10),
        ("qualification", "needs_analysis", 25),
        ("needs_analysis", "proposal", 60),
        ("proposal", "needs_analysis", 25),
        ("needs_analysis", "proposal", 50),
        ("proposal", "negotiation", 75),
        ("negotiation", "won", 100),
    ]
    assert all(h["expectedAmount"] == "5000.00" for h in o["stageHistory"])

    # Any open stage may be lost.
    lost = await open_deal(gql, world["mine"]["id"], name="Lost one")
    gone = await move(gql, lost["id"], stage="lost", lostReason="Went with a competitor")
    assert gone["errors"] == [] and gone["opportunity"]["outcome"] == "LOST"
    assert gone["opportunity"]["probability"] == 0 and gone["opportunity"]["closedAt"]
    # A new opportunity starts in an open stage only.
    closed_start = (await gql(CREATE, {"c": world["mine"]["id"], "i": {**BASE, "stage": "won"}}))[
        "createOpportunity"
    ]
    assert first_error(closed_start) == ("input.stage", "INVALID")
    later = await open_deal(gql, world["mine"]["id"], stage="proposal")
    assert (later["stage"], later["probability"]) == ("proposal", 50)

    # The history is a table reports read: one row per stage entered.
    async with db.tenant(world["t"].ref).read() as session:
        rows = (
            await session.execute(
                select(OpportunityStageHistory.to_stage)
                .where(OpportunityStageHistory.opportunity_id == from_global_id(deal["id"])[1])
                .order_by(OpportunityStageHistory.changed_at)
            )
        ).scalars()
        assert list(rows)[-1] == "won"


CUSTOM = [
    {"key": "lead", "name": "线索", "probability": 5, "next": ["demo"]},
    {"key": "demo", "name": "演示", "probability": 40, "next": ["won", "lead"]},
    {"key": "won", "name": "赢单", "probability": 100},
    {"key": "lost", "name": "输单", "probability": 0},
]


async def test_tenant_customised_funnel(db, gql_as, world) -> None:
    t = await make_tenant(db, "op-funnel")
    gql, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    customer = await create_customer(gql, name="Funnel Co")
    old = await open_deal(gql, customer["id"], name="Before the change")  # in qualification

    # A stage that open opportunities stand in cannot be dropped.
    refused = (await gql(SET_FUNNEL, {"s": CUSTOM}))["setOpportunityFunnel"]
    assert first_error(refused) == ("stages", "INVALID") and refused["stages"] is None
    assert (await move(gql, old["id"], stage="lost"))["errors"] == []
    saved = (await gql(SET_FUNNEL, {"s": CUSTOM}))["setOpportunityFunnel"]
    assert saved["errors"] == [], saved
    assert [s["key"] for s in (await gql(FUNNEL))["opportunityFunnel"]] == [
        "lead", "demo", "won", "lost"
    ]  # fmt: skip
    assert (await sales(FUNNEL))["opportunityFunnel"][0]["key"] == "lead"

    deal = await open_deal(gql, customer["id"])
    assert (deal["stage"], deal["probability"]) == ("lead", 5)
    assert first_error(await move(gql, deal["id"], stage="won")) == ("input.stage", "INVALID")
    gone = await move(gql, deal["id"], stage="qualification")  # not in this funnel any more
    assert first_error(gone) == ("input.stage", "INVALID")
    demo = await move(gql, deal["id"], stage="demo")
    assert demo["errors"] == [] and demo["opportunity"]["probability"] == 40
    won = await move(gql, deal["id"], stage="won")
    assert won["opportunity"]["outcome"] == "WON"
    assert [h["toStage"] for h in won["opportunity"]["stageHistory"]] == ["lead", "demo", "won"]

    # Other companies keep the product default.
    assert (await world["admin"](FUNNEL))["opportunityFunnel"][0]["key"] == "qualification"
    assert (await world["b"](FUNNEL))["opportunityFunnel"][0]["key"] == "qualification"

    # Only settings:manage changes the funnel.
    response = await sales.post(SET_FUNNEL, {"s": CUSTOM})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not allows(Role.manager, "settings:manage")


@pytest.mark.parametrize(
    ("stages", "field", "code"),
    [
        ([CUSTOM[0], {**CUSTOM[0], "name": "again"}, *CUSTOM[1:]], "stages.1.key", "DUPLICATE"),
        ([CUSTOM[0], CUSTOM[1], CUSTOM[3]], "stages", "REQUIRED"),  # no won
        ([CUSTOM[0], CUSTOM[1], CUSTOM[2]], "stages", "REQUIRED"),  # no lost
        (
            [CUSTOM[0], CUSTOM[1], {**CUSTOM[2], "probability": 90}, CUSTOM[3]],
            "stages.2.probability",
            "INVALID",
        ),
        (
            [CUSTOM[0], CUSTOM[1], CUSTOM[2], {**CUSTOM[3], "next": ["lead"]}],
            "stages.3.next",
            "INVALID",
        ),
        ([{**CUSTOM[0], "probability": 101}, *CUSTOM[1:]], "stages.0.probability", "INVALID"),
        ([{**CUSTOM[0], "probability": -1}, *CUSTOM[1:]], "stages.0.probability", "INVALID"),
        ([{**CUSTOM[0], "next": ["nowhere"]}, *CUSTOM[1:]], "stages.0.next", "INVALID"),
        ([{**CUSTOM[0], "key": "Bad Key"}, *CUSTOM[1:]], "stages.0.key", "INVALID"),
        ([{**CUSTOM[0], "name": " "}, *CUSTOM[1:]], "stages.0.name", "REQUIRED"),
        ([CUSTOM[2], CUSTOM[3]], "stages", "REQUIRED"),  # no open stage
    ],
)
async def test_invalid_funnels_are_refused(world, stages, field, code) -> None:
    gql = world["admin"]
    result = (await gql(SET_FUNNEL, {"s": stages}))["setOpportunityFunnel"]
    assert result["stages"] is None
    assert (field, code) in [(e["field"], e["code"]) for e in result["errors"]], result
    assert (await gql(FUNNEL))["opportunityFunnel"][0]["key"] == "qualification"


async def test_lines_and_amounts_are_checked(world) -> None:
    gql, cid = world["admin"], world["mine"]["id"]
    before = (await gql(LIST, {"first": 0, "del": True}))["opportunities"]["totalCount"]

    def line(p, **extra):
        return {"productId": world[p]["id"], "quantity": "1", **extra}

    for fields, expected in (
        (
            {"products": [line("p1"), line("b_product")]},
            ("input.products.1.productId", "NOT_FOUND"),
        ),
        ({"products": [line("inactive")]}, ("input.products.0.productId", "INVALID")),
        ({"products": [line("usd")]}, ("input.products.0.unitPrice", "REQUIRED")),
        ({"products": [line("p1", quantity="0")]}, ("input.products.0.quantity", "INVALID")),
        ({"products": [line("p1", quantity="-2")]}, ("input.products.0.quantity", "INVALID")),
        ({"products": [line("p1", unitPrice="-1")]}, ("input.products.0.unitPrice", "INVALID")),
        (
            {"products": [{"productId": "bm9wZQ==", "quantity": "1"}]},
            ("input.products.0.productId", "INVALID"),
        ),
        ({"expectedAmount": "-0.01"}, ("input.expectedAmount", "INVALID")),
        ({"expectedAmount": "1.001"}, ("input.expectedAmount", "INVALID")),
        ({"currency": "RMB1"}, ("input.currency", "INVALID")),
        ({"probability": 101}, ("input.probability", "INVALID")),
        ({"name": ""}, ("input.name", "REQUIRED")),
        ({"requirementId": world["other_req"]["id"]}, ("input.requirementId", "NOT_FOUND")),
    ):
        result = (await gql(CREATE, {"c": cid, "i": {**BASE, **fields}}))["createOpportunity"]
        assert result["opportunity"] is None
        assert first_error(result) == expected, (fields, result)
    assert (await gql(LIST, {"first": 0, "del": True}))["opportunities"]["totalCount"] == before
    # A product in another currency is fine with an explicit price.
    priced = await open_deal(gql, cid, products=[line("usd", unitPrice="700")])
    assert priced["products"][0]["unitPrice"] == "700.00"

    deal = await open_deal(gql, cid, products=[line("p1")], expectedAmount="100")
    for fields, expected in (
        ({"expectedAmount": "-5", "progress": "x"}, ("input.expectedAmount", "INVALID")),
        (
            {"products": [line("b_product")], "progress": "x"},
            ("input.products.0.productId", "NOT_FOUND"),
        ),
        (
            {"requirementId": world["other_req"]["id"], "progress": "x"},
            ("input.requirementId", "NOT_FOUND"),
        ),
        ({"name": None}, ("input.name", "REQUIRED")),
        ({"stage": None}, ("input.stage", "REQUIRED")),
    ):
        result = await move(gql, deal["id"], **fields)
        assert first_error(result) == expected, (fields, result)
    stored = (await gql(GET, {"id": deal["id"]}))["opportunity"]
    assert stored["version"] == 1 and stored["progress"] is None
    assert [p["product"]["code"] for p in stored["products"]] == ["OP-P1"]
    # The requirement of the same customer is fine; an empty list removes every line.
    ok = await move(gql, deal["id"], requirementId=world["req"]["id"], products=[])
    assert ok["errors"] == [] and ok["opportunity"]["products"] == []
    assert ok["opportunity"]["requirement"] == {"summary": "需要净水"}


async def test_products_on_lines_are_kept(world) -> None:
    gql = world["admin"]
    kept = await product(gql, code="OP-KEEP", name="Kept")
    deal = await open_deal(
        gql, world["mine"]["id"], products=[{"productId": kept["id"], "quantity": "2"}]
    )
    # A product on a line cannot be destroyed (history keeps it); deleting it is the way.
    refused = (await gql(DESTROY_PRODUCT, {"id": kept["id"]}))["destroyProduct"]
    assert refused["destroyedId"] is None and first_error(refused) == ("id", "CONFLICT")
    deleted = await gql(
        "mutation($id: ID!) { deleteProduct(id: $id) { errors { code } } }", {"id": kept["id"]}
    )
    assert deleted["deleteProduct"]["errors"] == []
    lines = (await gql(GET, {"id": deal["id"]}))["opportunity"]["products"]
    assert lines[0]["product"] == {"code": "OP-KEEP"}


async def test_bulk_create_is_all_or_nothing(world) -> None:
    gql, mine = world["admin"], world["mine"]["id"]
    bad = (
        await gql(
            CREATE_MANY,
            {
                "i": [
                    {"customerId": mine, "input": {"name": "bulk deal one"}},
                    {
                        "customerId": mine,
                        "input": {"name": "bulk deal two", "expectedAmount": "-1"},
                    },
                ]
            },
        )
    )["createOpportunities"]
    assert bad["opportunities"] == [] and first_error(bad) == (
        "inputs.1.input.expectedAmount",
        "INVALID",
    )
    lines = (
        await gql(
            CREATE_MANY,
            {
                "i": [
                    {
                        "customerId": mine,
                        "input": {"name": "x", "products": [{"productId": "bad", "quantity": "1"}]},
                    }
                ]
            },
        )
    )["createOpportunities"]
    assert first_error(lines) == ("inputs.0.input.products.0.productId", "INVALID")
    assert (await gql(LIST, {"first": 5, "search": "bulk deal"}))["opportunities"][
        "totalCount"
    ] == 0
    good = (
        await gql(
            CREATE_MANY,
            {
                "i": [
                    {"customerId": mine, "input": {"name": "bulk deal three"}},
                    {
                        "customerId": world["other"]["id"],
                        "input": {"name": "bulk deal four", "stage": "proposal"},
                    },
                ]
            },
        )
    )["createOpportunities"]
    assert good["errors"] == [] and [o["stage"] for o in good["opportunities"]] == [
        "qualification",
        "proposal",
    ]


async def test_other_tenants_opportunities_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_deal"]["id"]
    assert (await a(GET, {"id": theirs}))["opportunity"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a(LIST, {"first": 50, "search": "镜像机会"}))["opportunities"]["totalCount"] == 0
    foreign = to_global_id("User", world["b_sales"].user_id)
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"progress": "hijacked"}}, "updateOpportunity"),
        (UPDATE, {"id": theirs, "i": {"stage": "lost"}}, "updateOpportunity"),
        (DELETE, {"id": theirs}, "deleteOpportunity"),
        (RESTORE, {"id": theirs}, "restoreOpportunity"),
        (DESTROY, {"id": theirs}, "destroyOpportunity"),
        (CREATE, {"c": world["b_customer"]["id"], "i": BASE}, "createOpportunity"),
        (
            CREATE,
            {"c": world["mine"]["id"], "i": {**BASE, "ownerId": foreign}},
            "createOpportunity",
        ),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["opportunity"]
    assert still["name"] == "镜像机会 mirrored" and still["stage"] == "qualification"
    assert len(still["stageHistory"]) == 1


async def test_sales_rep_sees_only_own_customers_and_viewer_cannot_write(world) -> None:
    admin, sales, viewer = world["admin"], world["sales"], world["viewer"]
    theirs = await open_deal(admin, world["mine"]["id"], name="admin's deal")
    own = await open_deal(sales, world["sales_customer"]["id"], name="rep's deal")
    assert own["owner"] == {"name": "李娜"}
    page = (await sales(LIST, {"first": 50}))["opportunities"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["opportunity"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"progress": "x"}}, "updateOpportunity"),
        (DELETE, {"id": theirs["id"]}, "deleteOpportunity"),
        (CREATE, {"c": world["mine"]["id"], "i": BASE}, "createOpportunity"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    # A rep cannot point at a requirement of a customer outside their scope either.
    hidden = await move(sales, own["id"], requirementId=world["req"]["id"])
    assert first_error(hidden) == ("input.requirementId", "NOT_FOUND")
    assert (await move(sales, own["id"], stage="needs_analysis"))["errors"] == []

    assert (await viewer(GET, {"id": theirs["id"]}))["opportunity"]["name"] == "admin's deal"
    for doc, variables in (
        (CREATE, {"c": world["mine"]["id"], "i": BASE}),
        (UPDATE, {"id": theirs["id"], "i": {"progress": "x"}}),
        (DELETE, {"id": theirs["id"]}),
    ):
        response = await viewer.post(doc, variables)
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allows(Role.service, "opportunity:read") and not allows(
        Role.service, "opportunity:create"
    )


PAGE = """
{ customers(first: 50) { totalCount edges { node { id name
    opportunities(first: 3) { name owner { name } customer { name } requirement { summary }
      products { amount product { code } } stageHistory { toStage changedBy { name } } }
} } } }
"""
LIST_PAGE = """
{ opportunities(first: 50) { edges { node { name owner { name } customer { name }
    requirement { summary } products { product { code } } stageHistory { changedBy { name } } } } } }
"""


async def test_pages_with_relations_cost_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "op-pager")
    gql = await gql_as(t.admin_email)
    p = await product(gql, code="PG-1", name="Pager product")
    for i in range(50):
        c = await create_customer(gql, name=f"Dealer {i:02d}")
        req = await requirement(gql, c["id"], f"need {i}")
        for n in range(1 + i % 2):
            deal = await open_deal(
                gql,
                c["id"],
                name=f"deal {i}-{n}",
                requirementId=req["id"],
                products=[{"productId": p["id"], "quantity": "1"}],
            )
            assert (await move(gql, deal["id"], stage="needs_analysis"))["errors"] == []
    await gql(PAGE)  # warm: the token's membership lookup etc.
    for doc, root in ((PAGE, "customers"), (LIST_PAGE, "opportunities")):
        counts = []
        for first in (5, 50):
            counter = count_statements()
            data = await gql(doc.replace("first: 50", f"first: {first}"))
            assert len(data[root]["edges"]) == first
            counts.append(counter.count)
        assert counts[0] == counts[1], (root, counts)
        assert counts[0] <= 9, (root, counts)
