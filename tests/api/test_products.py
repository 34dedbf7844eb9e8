"""Products: the company-wide catalogue. Lifecycle with audit, the SKU unique among live products,
money and currency rules, bulk create all-or-nothing, every role reads but only owners, admins and
managers write, and tenant isolation."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE
from sqlalchemy import select

from crm_api.relay import from_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role

FIELDS = "id code name category unit unitPrice cost currency active description version deletedAt"
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($i: CreateProductInput!) {{
  createProduct(input: $i) {{ product {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateProductInput!]!) {{
  createProducts(inputs: $i) {{ products {{ id code }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateProductInput!, $v: Int) {{
  updateProduct(id: $id, input: $i, version: $v) {{ product {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteProduct(id: $id, version: $v) {{ product {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = (
    f"mutation($id: ID!) {{ restoreProduct(id: $id) {{ product {{ id deletedAt }} {ERRORS} }} }}"
)
DESTROY = f"mutation($id: ID!) {{ destroyProduct(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ product(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: ProductFilter, $order: [ProductOrderBy!], $search: String, $del: Boolean! = false) {
  products(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id code name unitPrice } }
  }
}"""
BASE = {"code": "PUR-X1", "name": "净水器 Purifier X1", "unitPrice": "1999.00"}


async def make(gql, **fields):
    result = (await gql(CREATE, {"i": {**BASE, **fields}}))["createProduct"]
    assert result["errors"] == [], result
    return result["product"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "pr-alpha")
    admin = await gql_as(t.admin_email)
    b = await gql_as(tenant_b.admin_email)
    return {
        "t": t,
        "admin": admin,
        "sales": await gql_as(t.sales_email),
        "viewer": await gql_as(t.viewer_email),
        "b": b,
        "b_product": await make(b, code="MIRROR-1", name="镜像产品 mirrored"),
    }


async def test_create_read_update_delete_restore_destroy_with_audit(db, world) -> None:
    gql = world["admin"]
    made = await make(
        gql,
        code="SKU-LIFE",
        name="空气净化器 Air Cleaner",
        category="家电",
        unit="台",
        cost="1200.5",
        currency="usd",
        description="Quiet",
    )
    assert made["currency"] == "USD" and made["unitPrice"] == "1999.00"
    assert made["cost"] == "1200.50" and made["unit"] == "台" and made["active"] is True
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Product"
    assert (await gql(GET, {"id": made["id"]}))["product"]["code"] == "SKU-LIFE"
    # Search by name (pinyin too), code and category; typed filters; ordering.
    for term in ("Cleaner", "kongqi", "sku-life", "家电"):
        page = (await gql(LIST, {"first": 5, "search": term}))["products"]
        assert [e["node"]["id"] for e in page["edges"]] == [made["id"]], term
    filt = {"unitPrice": {"gte": "1000", "lt": "2000"}, "currency": {"eq": "USD"}}
    page = (await gql(LIST, {"first": 5, "filter": filt}))["products"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]]
    order = [{"field": "UNIT_PRICE", "direction": "DESC"}]
    assert (await gql(LIST, {"first": 5, "order": order}))["products"]["totalCount"] >= 1

    updated = (
        await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"unitPrice": "1899", "active": False}})
    )["updateProduct"]
    assert updated["errors"] == [] and updated["product"]["unitPrice"] == "1899.00"
    assert updated["product"]["active"] is False and updated["product"]["version"] == 2
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"name": "x"}}))["updateProduct"]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["errors"][0]["field"] == "version"
    assert (await gql(GET, {"id": made["id"]}))["product"]["name"] == "空气净化器 Air Cleaner"

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteProduct"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["product"] is None
    assert (await gql(LIST, {"first": 5, "search": "SKU-LIFE"}))["products"]["totalCount"] == 0
    deleted = await gql(LIST, {"first": 5, "search": "SKU-LIFE", "del": True})
    assert deleted["products"]["totalCount"] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreProduct"]
    assert restored["errors"] == [] and restored["product"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyProduct"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["product"] is None

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.entity)
            .where(AuditEntry.entity_id == from_global_id(made["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert [a for a, _ in rows] == ["create", "update", "delete", "restore", "destroy"]


async def test_code_unique_among_live_products(world) -> None:
    gql = world["admin"]
    first = await make(gql, code="DUP-1")
    again = (await gql(CREATE, {"i": {**BASE, "code": "DUP-1"}}))["createProduct"]
    assert again["product"] is None
    assert (again["errors"][0]["field"], again["errors"][0]["code"]) == ("input.code", "DUPLICATE")
    other = await make(gql, code="DUP-2")
    renamed = (await gql(UPDATE, {"id": other["id"], "i": {"code": "DUP-1"}}))["updateProduct"]
    assert (renamed["errors"][0]["field"], renamed["errors"][0]["code"]) == (
        "input.code",
        "DUPLICATE",
    )
    # A deleted product gives its code up; restoring it while the code is taken is refused.
    assert (await gql(DELETE, {"id": first["id"]}))["deleteProduct"]["errors"] == []
    successor = await make(gql, code="DUP-1", name="Successor")
    back = (await gql(RESTORE, {"id": first["id"]}))["restoreProduct"]
    assert (back["errors"][0]["field"], back["errors"][0]["code"]) == ("input.code", "DUPLICATE")
    assert (await gql(GET, {"id": successor["id"]}))["product"]["name"] == "Successor"
    # The other company may use the same code.
    assert (await make(world["b"], code="DUP-1"))["code"] == "DUP-1"


async def test_default_currency_is_the_companys(world) -> None:
    made = await make(world["admin"], code="CUR-DEFAULT")
    assert made["currency"] == "CNY"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"code": ""}, "input.code", "REQUIRED"),
        ({"name": "   "}, "input.name", "REQUIRED"),
        ({"name": "x" * 201}, "input.name", "TOO_LONG"),
        ({"unitPrice": "-0.01"}, "input.unitPrice", "INVALID"),
        ({"unitPrice": "1.005"}, "input.unitPrice", "INVALID"),
        ({"cost": "-5"}, "input.cost", "INVALID"),
        ({"currency": "RMB1"}, "input.currency", "INVALID"),
        ({"currency": "¥"}, "input.currency", "INVALID"),
        ({"unit": "x" * 21}, "input.unit", "TOO_LONG"),
    ],
)
async def test_invalid_input_names_the_field_and_writes_nothing(world, fields, field, code) -> None:
    gql = world["admin"]
    before = (await gql(LIST, {"first": 0, "del": True}))["products"]["totalCount"]
    result = (await gql(CREATE, {"i": {**BASE, "code": "BAD-1", **fields}}))["createProduct"]
    assert result["product"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    assert (await gql(LIST, {"first": 0, "del": True}))["products"]["totalCount"] == before


async def test_update_errors_write_nothing(world) -> None:
    gql = world["admin"]
    made = await make(gql, code="UPD-ERR", cost="10")
    for fields, field, code in (
        ({"unitPrice": "-1"}, "input.unitPrice", "INVALID"),
        ({"unitPrice": None}, "input.unitPrice", "REQUIRED"),
        ({"name": None}, "input.name", "REQUIRED"),
        ({"currency": "12"}, "input.currency", "INVALID"),
        ({"cost": "-0.5", "name": "changed"}, "input.cost", "INVALID"),
    ):
        result = (await gql(UPDATE, {"id": made["id"], "i": fields}))["updateProduct"]
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code)
    stored = (await gql(GET, {"id": made["id"]}))["product"]
    assert stored["version"] == 1 and stored["name"] == BASE["name"] and stored["cost"] == "10.00"
    # Clearing the optional cost is allowed.
    cleared = (await gql(UPDATE, {"id": made["id"], "i": {"cost": None}}))["updateProduct"]
    assert cleared["errors"] == [] and cleared["product"]["cost"] is None


async def test_bulk_create_is_all_or_nothing(world) -> None:
    gql = world["admin"]
    bad = (
        await gql(
            CREATE_MANY,
            {"i": [{**BASE, "code": "BULK-1"}, {**BASE, "code": "BULK-2", "unitPrice": "-3"}]},
        )
    )["createProducts"]
    assert bad["products"] == []
    assert (bad["errors"][0]["field"], bad["errors"][0]["code"]) == (
        "inputs.1.unitPrice",
        "INVALID",
    )
    assert (await gql(LIST, {"first": 5, "search": "BULK-1"}))["products"]["totalCount"] == 0
    dup = (await gql(CREATE_MANY, {"i": [{**BASE, "code": "BULK-3"}, {**BASE, "code": "BULK-3"}]}))[
        "createProducts"
    ]
    assert (dup["errors"][0]["field"], dup["errors"][0]["code"]) == ("inputs.1.code", "DUPLICATE")
    good = (
        await gql(CREATE_MANY, {"i": [{**BASE, "code": "BULK-4"}, {**BASE, "code": "BULK-5"}]})
    )["createProducts"]
    assert good["errors"] == [] and [p["code"] for p in good["products"]] == ["BULK-4", "BULK-5"]
    too_many = [{**BASE, "code": f"M-{i}"} for i in range(101)]
    over = (await gql(CREATE_MANY, {"i": too_many}))["createProducts"]
    assert over["errors"][0]["code"] == "LIMIT_EXCEEDED"


async def test_every_role_reads_only_managers_and_admins_write(world) -> None:
    made = await make(world["admin"], code="ROLE-1")
    for who in ("sales", "viewer"):
        gql = world[who]
        assert (await gql(GET, {"id": made["id"]}))["product"]["code"] == "ROLE-1"
        assert (await gql(LIST, {"first": 5, "search": "ROLE-1"}))["products"]["totalCount"] == 1
        for doc, variables in (
            (CREATE, {"i": {**BASE, "code": "ROLE-2"}}),
            (UPDATE, {"id": made["id"], "i": {"name": "x"}}),
            (DELETE, {"id": made["id"]}),
            (DESTROY, {"id": made["id"]}),
        ):
            response = await gql.post(doc, variables)
            assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", (who, doc)
    assert (await world["admin"](GET, {"id": made["id"]}))["product"]["name"] == BASE["name"]
    assert allows(Role.manager, "product:update") and allows(Role.service, "product:read")
    assert not allows(Role.manager, "product:destroy") and not allows(Role.sales, "product:create")


async def test_other_tenants_products_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_product"]["id"]
    assert (await a(GET, {"id": theirs}))["product"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a(LIST, {"first": 50, "search": "镜像产品"}))["products"]["totalCount"] == 0
    filt = {"id": {"eq": theirs}}
    assert (await a(LIST, {"first": 5, "filter": filt, "del": True}))["products"]["totalCount"] == 0
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"name": "hijacked"}}, "updateProduct"),
        (DELETE, {"id": theirs}, "deleteProduct"),
        (RESTORE, {"id": theirs}, "restoreProduct"),
        (DESTROY, {"id": theirs}, "destroyProduct"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["product"]
    assert still["name"] == "镜像产品 mirrored" and still["deletedAt"] is None
