"""Orders with lines, payments and refunds: lifecycle with audit, the status workflow, totals kept
on the row after every change, overpayment and over-refund refused with nothing changed, products
and contracts only of the same tenant and customer, isolation, data scope, permissions, optimistic
concurrency and the constant statement count of a page."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role

ERRORS = "errors { field code message }"
TOTALS = "totalAmount paidAmount refundedAmount balance"
FIELDS = (
    f"id number orderedOn status currency notes {TOTALS} version deletedAt "
    "owner { name } customer { name } contract { number } "
    "lines { position productName quantity unitPrice discount amount product { code } } "
    "payments { id amount method paidOn currency reference } "
    "refunds { id amount refundedOn paymentId reason }"
)
CREATE = f"""
mutation($c: ID!, $i: CreateOrderInput!) {{
  createOrder(customerId: $c, input: $i) {{ order {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateOrderItemInput!]!) {{
  createOrders(inputs: $i) {{ orders {{ id number }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateOrderInput!, $v: Int) {{
  updateOrder(id: $id, input: $i, version: $v) {{ order {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteOrder(id: $id, version: $v) {{ order {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreOrder(id: $id) {{ order {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = f"mutation($id: ID!) {{ destroyOrder(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ order(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: OrderFilter, $order: [OrderOrderBy!], $search: String, $del: Boolean! = false) {
  orders(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id number totalAmount } }
  }
}"""
PAY = f"""
mutation($o: ID!, $i: RecordPaymentInput!) {{
  recordPayment(orderId: $o, input: $i) {{ order {{ {TOTALS} version }} payment {{ id amount }} {ERRORS} }}
}}"""
REFUND = f"""
mutation($o: ID!, $i: RecordRefundInput!) {{
  recordRefund(orderId: $o, input: $i) {{ order {{ {TOTALS} }} refund {{ id amount paymentId }} {ERRORS} }}
}}"""
UNPAY = f"mutation($id: ID!) {{ destroyPayment(id: $id) {{ order {{ {TOTALS} }} destroyedId {ERRORS} }} }}"
UNREFUND = f"mutation($id: ID!) {{ destroyRefund(id: $id) {{ order {{ {TOTALS} }} destroyedId {ERRORS} }} }}"
CREATE_PRODUCT = """
mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id code } errors { field code message } } }
"""
CREATE_CONTRACT = """
mutation($c: ID!, $i: CreateContractInput!) {
  createContract(customerId: $c, input: $i) { contract { id number orders(first: 5) { number } } errors { field code } }
}"""
GET_CONTRACT = (
    "query($id: ID!) { contract(id: $id) { number orders(first: 5) { number totalAmount } } }"
)


async def product(gql, code, price="100.00", **fields):
    data = {"code": code, "name": f"产品 {code}", "unitPrice": price, **fields}
    result = (await gql(CREATE_PRODUCT, {"i": data}))["createProduct"]
    assert result["errors"] == [], result
    return result["product"]


async def contract(gql, customer_id, number):
    data = {"name": "Supply", "number": number, "startsOn": "2026-01-01", "endsOn": "2026-12-31"}
    result = (await gql(CREATE_CONTRACT, {"c": customer_id, "i": data}))["createContract"]
    assert result["errors"] == [], result
    return result["contract"]


async def place(gql, customer_id, lines, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {"lines": lines, **fields}}))["createOrder"]
    assert result["errors"] == [], result
    return result["order"]


def line(p, quantity="1", **fields):
    return {"productId": p["id"], "quantity": quantity, **fields}


def first_error(result):
    return (result["errors"][0]["field"], result["errors"][0]["code"])


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "od-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="订单镜像客户")
    b_product = await product(b, "B-PUMP")
    b_order = await place(b, b_customer["id"], [line(b_product, "2")], number="B-SO-1")
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "viewer": await gql_as(t.viewer_email),
        "mine": await create_customer(admin, name="订单客户"),
        "other": await create_customer(admin, name="订单别家"),
        "sales_customer": await create_customer(sales, name="Rep Order Customer"),
        "pump": await product(admin, "PUMP", "1200.00"),
        "filter": await product(admin, "FILTER", "35.50"),
        "usd": await product(admin, "USD-KIT", "99.00", currency="USD"),
        "b": b,
        "b_customer": b_customer,
        "b_product": b_product,
        "b_order": b_order,
    }


async def audit_actions(db, t, global_id, entity="order"):
    async with db.tenant(t.ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(
                AuditEntry.entity_id == from_global_id(global_id)[1], AuditEntry.entity == entity
            )
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return list(rows.scalars())


async def test_order_lifecycle_with_audit(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    deal = await contract(gql, mine["id"], "HT-OD-1")
    made = await place(
        gql,
        mine["id"],
        [line(world["pump"], "2", discount="100"), line(world["filter"], "3", unitPrice="30")],
        contractId=deal["id"],
        orderedOn="2026-04-01",
        notes="首单 first order",
    )
    assert (
        made["status"] == "DRAFT" and made["currency"] == "CNY" and made["number"].startswith("SO-")
    )
    assert made["owner"] == {"name": "Admin"} and made["customer"] == {"name": "订单客户"}
    assert made["contract"] == {"number": "HT-OD-1"}
    assert [(ln["position"], ln["unitPrice"], ln["amount"]) for ln in made["lines"]] == [
        (1, "1200.00", "2300.00"),
        (2, "30.00", "90.00"),
    ]
    assert made["lines"][0]["product"] == {"code": "PUMP"}
    assert (made["totalAmount"], made["balance"]) == ("2390.00", "2390.00")
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Order"
    assert [
        o["number"] for o in (await gql(GET_CONTRACT, {"id": deal["id"]}))["contract"]["orders"]
    ] == [made["number"]]
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "totalAmount": {"gt": "2000"},
                    "orderedOn": {"eq": "2026-04-01"},
                    "status": {"eq": "DRAFT"},
                },
                "order": [{"field": "TOTAL_AMOUNT", "direction": "DESC"}],
            },
        )
    )["orders"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]] and page["totalCount"] == 1
    assert (await gql(LIST, {"first": 5, "search": "first order"}))["orders"]["totalCount"] == 1

    confirmed = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"status": "CONFIRMED"}}))[
        "updateOrder"
    ]
    assert confirmed["errors"] == [] and confirmed["order"]["status"] == "CONFIRMED"
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"notes": "x"}}))["updateOrder"]
    assert first_error(stale) == ("version", "CONFLICT")
    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteOrder"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["order"] is None
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreOrder"]
    assert restored["errors"] == [] and restored["order"]["deletedAt"] is None
    assert (await gql(DESTROY, {"id": made["id"]}))["destroyOrder"] == {
        "destroyedId": made["id"],
        "errors": [],
    }
    assert await audit_actions(db, world["t"], made["id"]) == [
        "create",
        "update",
        "delete",
        "restore",
        "destroy",
    ]


async def test_status_workflow_and_lines_only_while_draft(world) -> None:
    gql = world["admin"]
    made = await place(gql, world["mine"]["id"], [line(world["filter"])])
    skipped = (await gql(UPDATE, {"id": made["id"], "i": {"status": "SHIPPED"}}))["updateOrder"]
    assert first_error(skipped) == ("input.status", "INVALID")
    for status in ("CONFIRMED", "SHIPPED"):
        assert (await gql(UPDATE, {"id": made["id"], "i": {"status": status}}))["updateOrder"][
            "errors"
        ] == []
    late = await gql(UPDATE, {"id": made["id"], "i": {"lines": [line(world["pump"])]}})
    assert first_error(late["updateOrder"]) == ("input.lines", "INVALID")
    cancel = (await gql(UPDATE, {"id": made["id"], "i": {"status": "CANCELLED"}}))["updateOrder"]
    assert first_error(cancel) == ("input.status", "INVALID")
    done = (await gql(UPDATE, {"id": made["id"], "i": {"status": "COMPLETED"}}))["updateOrder"]
    assert done["errors"] == [] and done["order"]["status"] == "COMPLETED"
    other = await place(gql, world["mine"]["id"], [line(world["filter"])])
    gone = (await gql(UPDATE, {"id": other["id"], "i": {"status": "CANCELLED"}}))["updateOrder"]
    assert gone["errors"] == [] and gone["order"]["status"] == "CANCELLED"
    paid = await gql(PAY, {"o": other["id"], "i": {"amount": "1", "method": "CASH"}})
    assert first_error(paid["recordPayment"]) == ("input.orderId", "INVALID")


async def test_totals_follow_lines_payments_and_refunds(db, world) -> None:
    gql = world["admin"]
    made = await place(gql, world["mine"]["id"], [line(world["pump"], "1")])
    assert made["totalAmount"] == "1200.00"
    relined = (
        await gql(
            UPDATE,
            {
                "id": made["id"],
                "i": {
                    "lines": [
                        line(world["pump"], "2"),
                        line(world["filter"], "0.5", discount="0.75"),
                    ]
                },
            },
        )
    )["updateOrder"]["order"]
    assert [ln["amount"] for ln in relined["lines"]] == ["2400.00", "17.00"]
    assert relined["totalAmount"] == "2417.00"
    first = (
        await gql(
            PAY,
            {
                "o": made["id"],
                "i": {
                    "amount": "1000",
                    "method": "BANK_TRANSFER",
                    "reference": "TX-1",
                    "paidOn": "2026-04-02",
                },
            },
        )
    )["recordPayment"]
    assert first["errors"] == [], first
    assert [
        first["order"][k] for k in ("totalAmount", "paidAmount", "refundedAmount", "balance")
    ] == [
        "2417.00",
        "1000.00",
        "0.00",
        "1417.00",
    ]
    second = (
        await gql(
            PAY,
            {"o": made["id"], "i": {"amount": "1417", "method": "WECHAT_PAY", "currency": "cny"}},
        )
    )["recordPayment"]
    assert second["errors"] == [] and second["order"]["balance"] == "0.00"
    refund = (
        await gql(
            REFUND,
            {
                "o": made["id"],
                "i": {
                    "amount": "300",
                    "paymentId": first["payment"]["id"],
                    "reason": "破损 damaged",
                },
            },
        )
    )["recordRefund"]
    assert refund["errors"] == [], refund
    assert refund["refund"]["paymentId"] == first["payment"]["id"]
    assert (refund["order"]["refundedAmount"], refund["order"]["balance"]) == ("300.00", "300.00")
    # Money kept cannot exceed the total: a new draft total below it is refused.
    shrink = await gql(UPDATE, {"id": made["id"], "i": {"lines": [line(world["filter"])]}})
    assert first_error(shrink["updateOrder"]) == ("input.lines", "INVALID")
    # Paying the balance again after a refund is fine.
    again = (await gql(PAY, {"o": made["id"], "i": {"amount": "300", "method": "CASH"}}))[
        "recordPayment"
    ]
    assert again["errors"] == [] and again["order"]["paidAmount"] == "2717.00"
    stored = (await gql(GET, {"id": made["id"]}))["order"]
    assert len(stored["payments"]) == 3 and len(stored["refunds"]) == 1
    assert {p["currency"] for p in stored["payments"]} == {"CNY"}
    # Undo: a payment with refunds pointing to it stays; the refund goes, then the payment.
    blocked = (await gql(UNPAY, {"id": first["payment"]["id"]}))["destroyPayment"]
    assert first_error(blocked) == ("id", "INVALID")
    unrefunded = (await gql(UNREFUND, {"id": refund["refund"]["id"]}))["destroyRefund"]
    # Without the refund, the money kept (2717) would exceed the total (2417): refused.
    assert first_error(unrefunded) == ("id", "INVALID")
    unpaid = (await gql(UNPAY, {"id": again["payment"]["id"]}))["destroyPayment"]
    assert unpaid["errors"] == [] and unpaid["order"]["paidAmount"] == "2417.00"
    unrefunded = (await gql(UNREFUND, {"id": refund["refund"]["id"]}))["destroyRefund"]
    assert unrefunded["errors"] == [] and unrefunded["order"]["refundedAmount"] == "0.00"
    final = (await gql(GET, {"id": made["id"]}))["order"]
    assert (final["paidAmount"], final["refundedAmount"], final["balance"]) == (
        "2417.00",
        "0.00",
        "0.00",
    )
    assert await audit_actions(db, world["t"], again["payment"]["id"], "order_payment") == [
        "create",
        "destroy",
    ]


async def test_overpayment_and_over_refund_change_nothing(world) -> None:
    gql = world["admin"]
    made = await place(gql, world["mine"]["id"], [line(world["filter"], "2")])  # 71.00
    paid = (await gql(PAY, {"o": made["id"], "i": {"amount": "50", "method": "ALIPAY"}}))[
        "recordPayment"
    ]
    payment = paid["payment"]
    before = (await gql(GET, {"id": made["id"]}))["order"]
    for doc, data, name, field in (
        (PAY, {"amount": "21.01", "method": "CASH"}, "recordPayment", "input.amount"),
        (PAY, {"amount": "0", "method": "CASH"}, "recordPayment", "input.amount"),
        (
            PAY,
            {"amount": "5", "method": "CASH", "currency": "USD"},
            "recordPayment",
            "input.currency",
        ),
        (REFUND, {"amount": "50.01"}, "recordRefund", "input.amount"),
        (REFUND, {"amount": "-1"}, "recordRefund", "input.amount"),
        (REFUND, {"amount": "10", "currency": "EUR"}, "recordRefund", "input.currency"),
    ):
        result = (await gql(doc, {"o": made["id"], "i": data}))[name]
        assert result["order"] is None and result["errors"][0]["field"] == field, (data, result)
    # A refund of one payment cannot exceed that payment.
    second = (await gql(PAY, {"o": made["id"], "i": {"amount": "21", "method": "CASH"}}))[
        "recordPayment"
    ]
    mid = (await gql(GET, {"id": made["id"]}))["order"]
    too_much = await gql(
        REFUND, {"o": made["id"], "i": {"amount": "30", "paymentId": second["payment"]["id"]}}
    )
    assert first_error(too_much["recordRefund"]) == ("input.amount", "INVALID")
    wrong_order = await place(gql, world["mine"]["id"], [line(world["filter"])])
    foreign = await gql(
        REFUND, {"o": wrong_order["id"], "i": {"amount": "1", "paymentId": payment["id"]}}
    )
    assert first_error(foreign["recordRefund"]) == ("input.paymentId", "NOT_FOUND")
    after = (await gql(GET, {"id": made["id"]}))["order"]
    assert after == mid and len(before["payments"]) == 1 and after["refunds"] == []
    assert (after["paidAmount"], after["balance"], after["version"]) == (
        "71.00",
        "0.00",
        mid["version"],
    )


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"lines": [{"quantity": "0"}]}, "input.lines.0.quantity", "INVALID"),
        ({"lines": [{"quantity": "-2"}]}, "input.lines.0.quantity", "INVALID"),
        ({"lines": [{"unitPrice": "-1"}]}, "input.lines.0.unitPrice", "INVALID"),
        ({"lines": [{"discount": "5000"}]}, "input.lines.0.discount", "INVALID"),
        ({"lines": [{"productId": "bad"}]}, "input.lines.0.productId", "INVALID"),
        ({"number": ""}, "input.number", "REQUIRED"),
        ({"currency": "US"}, "input.currency", "REQUIRED"),
        ({"notes": "x" * 10_001}, "input.notes", "TOO_LONG"),
        ({"ownerId": "VXNlcjpub3QtYS11dWlk"}, "input.ownerId", "INVALID"),
    ],
)
async def test_invalid_order_input_names_the_field(world, fields, field, code) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["orders"]["totalCount"]
    data = {"lines": [line(world["pump"])], **fields}
    if "lines" in fields:
        data["lines"] = [{**line(world["pump"]), **fields["lines"][0]}]
    result = (await gql(CREATE, {"c": mine["id"], "i": data}))["createOrder"]
    assert result["order"] is None
    assert first_error(result) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["orders"]["totalCount"] == before


async def test_references_must_be_this_tenants_and_customers(world) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["orders"]["totalCount"]
    theirs = await gql(
        CREATE, {"c": mine["id"], "i": {"lines": [line(world["pump"]), line(world["b_product"])]}}
    )
    assert first_error(theirs["createOrder"]) == ("input.lines.1.productId", "NOT_FOUND")
    usd = await gql(CREATE, {"c": mine["id"], "i": {"lines": [line(world["usd"])]}})
    assert first_error(usd["createOrder"]) == ("input.lines.0.unitPrice", "REQUIRED")
    priced = await place(gql, mine["id"], [line(world["usd"], unitPrice="700")])
    assert priced["totalAmount"] == "700.00"
    elsewhere = await contract(gql, world["other"]["id"], "HT-OTHER-1")
    wrong = await gql(CREATE, {"c": mine["id"], "i": {"contractId": elsewhere["id"]}})
    assert first_error(wrong["createOrder"]) == ("input.contractId", "NOT_FOUND")
    made = await place(gql, mine["id"], [line(world["pump"])])
    relined = await gql(UPDATE, {"id": made["id"], "i": {"lines": [line(world["b_product"])]}})
    assert first_error(relined["updateOrder"]) == ("input.lines.0.productId", "NOT_FOUND")
    assert (await gql(GET, {"id": made["id"]}))["order"]["totalAmount"] == "1200.00"
    batch = await gql(
        CREATE_MANY,
        {
            "i": [
                {"customerId": mine["id"], "input": {"lines": [line(world["pump"])]}},
                {"customerId": mine["id"], "input": {"lines": [line(world["b_product"])]}},
            ]
        },
    )
    assert batch["createOrders"]["orders"] == []
    assert first_error(batch["createOrders"]) == ("inputs.1.input.lines.0.productId", "NOT_FOUND")
    assert (await gql(LIST, {"first": 0}))["orders"]["totalCount"] == before + 2
    dup = await gql(CREATE, {"c": mine["id"], "i": {"number": made["number"]}})
    assert first_error(dup["createOrder"]) == ("input.number", "DUPLICATE")


async def test_other_tenants_orders_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_order"]["id"]
    assert (await a(GET, {"id": theirs}))["order"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a('{ orders(first: 50, search: "B-SO-1") { totalCount } }'))["orders"][
        "totalCount"
    ] == 0
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"notes": "hijacked"}}, "updateOrder"),
        (DELETE, {"id": theirs}, "deleteOrder"),
        (RESTORE, {"id": theirs}, "restoreOrder"),
        (DESTROY, {"id": theirs}, "destroyOrder"),
        (CREATE, {"c": world["b_customer"]["id"], "i": {}}, "createOrder"),
        (PAY, {"o": theirs, "i": {"amount": "1", "method": "CASH"}}, "recordPayment"),
        (REFUND, {"o": theirs, "i": {"amount": "1"}}, "recordRefund"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    b = world["b"]
    their_payment = (await b(PAY, {"o": theirs, "i": {"amount": "5", "method": "CASH"}}))[
        "recordPayment"
    ]
    assert (await a(UNPAY, {"id": their_payment["payment"]["id"]}))["destroyPayment"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    still = (await b(GET, {"id": theirs}))["order"]
    assert still["notes"] is None and still["paidAmount"] == "5.00" and still["deletedAt"] is None


async def test_scope_and_permissions(world) -> None:
    admin, sales, viewer = world["admin"], world["sales"], world["viewer"]
    theirs = await place(admin, world["mine"]["id"], [line(world["pump"])], notes="admin's order")
    own = await place(sales, world["sales_customer"]["id"], [line(world["filter"])])
    page = (await sales(LIST, {"first": 50}))["orders"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["order"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"notes": "x"}}, "updateOrder"),
        (DELETE, {"id": theirs["id"]}, "deleteOrder"),
        (CREATE, {"c": world["mine"]["id"], "i": {}}, "createOrder"),
        (PAY, {"o": theirs["id"], "i": {"amount": "1", "method": "CASH"}}, "recordPayment"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    paid = (await sales(PAY, {"o": own["id"], "i": {"amount": "10", "method": "CARD"}}))[
        "recordPayment"
    ]
    assert paid["errors"] == []

    assert (await viewer(GET, {"id": theirs["id"]}))["order"]["notes"] == "admin's order"
    for doc, variables in (
        (CREATE, {"c": world["mine"]["id"], "i": {}}),
        (UPDATE, {"id": theirs["id"], "i": {"notes": "x"}}),
        (PAY, {"o": theirs["id"], "i": {"amount": "1", "method": "CASH"}}),
        (REFUND, {"o": theirs["id"], "i": {"amount": "1"}}),
        (UNPAY, {"id": paid["payment"]["id"]}),
    ):
        response = await viewer.post(doc, variables)
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allows(Role.sales, "order:update") and allows(Role.manager, "order:delete")
    assert allows(Role.service, "order:read") and not allows(Role.service, "order:create")


PAGE = """
{ customers(first: 50, orderBy: [{field: NAME}]) { edges { node { id name
    orders(first: 3) { number totalAmount balance owner { name } customer { name } contract { number }
      lines { amount product { code } } payments { amount } refunds { amount } } } } } }
"""


async def test_page_with_orders_costs_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "od-pager")
    gql = await gql_as(t.admin_email)
    p = await product(gql, "P1", "10.00")
    q = await product(gql, "P2", "20.00")
    for i in range(30):
        c = await create_customer(gql, name=f"Buyer {i:02d}")
        deal = await contract(gql, c["id"], f"HT-P-{i}")
        for _ in range(1 + i % 2):
            o = await place(gql, c["id"], [line(p, "2"), line(q)], contractId=deal["id"])
            await gql(PAY, {"o": o["id"], "i": {"amount": "30", "method": "CASH"}})
            await gql(REFUND, {"o": o["id"], "i": {"amount": "5"}})
    await gql(PAGE)  # warm: the token's membership lookup etc.
    counts = []
    for first in (5, 30):
        counter = count_statements()
        data = await gql(PAGE.replace("first: 50", f"first: {first}"))
        edges = data["customers"]["edges"]
        assert len(edges) == first
        orders = [o for e in edges for o in e["node"]["orders"]]
        assert orders and all(o["balance"] == "15.00" and len(o["lines"]) == 2 for o in orders)
        assert all(o["lines"][0]["product"]["code"] == "P1" and o["contract"] for o in orders)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts
