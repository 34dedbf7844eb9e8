"""Contracts and their deliveries: lifecycle with audit, the status workflow, dates in order,
deliveries within the contract (also when its dates move), the opportunity rule, tenant isolation,
data scope, permissions, optimistic concurrency and the constant statement count of a page."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.contracts import service as contracts_service
from crm_core.identity.permissions import allows
from crm_core.identity.principal import Principal
from crm_core.tenants.models import Role

ERRORS = "errors { field code message }"
FIELDS = (
    "id number name signedOn startsOn endsOn amount currency status terms notes version deletedAt "
    "owner { name } customer { name } opportunity { id } deliveries { id dueOn acceptanceStatus }"
)
CREATE = f"""
mutation($c: ID!, $i: CreateContractInput!) {{
  createContract(customerId: $c, input: $i) {{ contract {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateContractItemInput!]!) {{
  createContracts(inputs: $i) {{ contracts {{ id number }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateContractInput!, $v: Int) {{
  updateContract(id: $id, input: $i, version: $v) {{ contract {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteContract(id: $id, version: $v) {{ contract {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = (
    f"mutation($id: ID!) {{ restoreContract(id: $id) {{ contract {{ id deletedAt }} {ERRORS} }} }}"
)
DESTROY = f"mutation($id: ID!) {{ destroyContract(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ contract(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: ContractFilter, $order: [ContractOrderBy!], $search: String, $del: Boolean! = false) {
  contracts(first: $first, filter: $filter, orderBy: $order, search: $search, includeDeleted: $del) {
    totalCount edges { node { id number status amount } }
  }
}"""
D_FIELDS = (
    "id dueOn content deliveredOn acceptanceStatus acceptedOn acceptanceNotes version deletedAt "
    "contract { id number }"
)
CREATE_D = f"""
mutation($c: ID!, $i: CreateContractDeliveryInput!) {{
  createContractDelivery(contractId: $c, input: $i) {{ contractDelivery {{ {D_FIELDS} }} {ERRORS} }}
}}"""
CREATE_DS = f"""
mutation($c: ID!, $i: [CreateContractDeliveryInput!]!) {{
  createContractDeliveries(contractId: $c, inputs: $i) {{ contractDeliveries {{ id }} {ERRORS} }}
}}"""
UPDATE_D = f"""
mutation($id: ID!, $i: UpdateContractDeliveryInput!, $v: Int) {{
  updateContractDelivery(id: $id, input: $i, version: $v) {{ contractDelivery {{ {D_FIELDS} }} {ERRORS} }}
}}"""
DELETE_D = f"mutation($id: ID!, $v: Int) {{ deleteContractDelivery(id: $id, version: $v) {{ contractDelivery {{ id deletedAt }} {ERRORS} }} }}"
RESTORE_D = f"mutation($id: ID!) {{ restoreContractDelivery(id: $id) {{ contractDelivery {{ id deletedAt }} {ERRORS} }} }}"
DESTROY_D = f"mutation($id: ID!) {{ destroyContractDelivery(id: $id) {{ destroyedId {ERRORS} }} }}"
GET_D = f"query($id: ID!) {{ contractDelivery(id: $id) {{ {D_FIELDS} }} }}"
LIST_D = """
query($first: Int, $filter: ContractDeliveryFilter, $del: Boolean! = false) {
  contractDeliveries(first: $first, filter: $filter, includeDeleted: $del) {
    totalCount edges { node { id dueOn } }
  }
}"""
CREATE_OPP = """
mutation($c: ID!, $i: CreateOpportunityInput!) {
  createOpportunity(customerId: $c, input: $i) { opportunity { id } errors { field code message } }
}"""
LOSE_OPP = """
mutation($id: ID!) {
  updateOpportunity(id: $id, input: {stage: "lost", lostReason: "price"}) { errors { field code message } }
}"""
BASE = {"name": "年度维保合同 Annual maintenance", "startsOn": "2026-01-01", "endsOn": "2026-12-31"}


async def sign(gql, customer_id, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {**BASE, **fields}}))["createContract"]
    assert result["errors"] == [], result
    return result["contract"]


async def deliver(gql, contract_id, **fields):
    data = {"dueOn": "2026-03-01", "content": "First batch 第一批", **fields}
    result = (await gql(CREATE_D, {"c": contract_id, "i": data}))["createContractDelivery"]
    assert result["errors"] == [], result
    return result["contractDelivery"]


async def opportunity(gql, customer_id, name="Deal", lost=False):
    result = (await gql(CREATE_OPP, {"c": customer_id, "i": {"name": name}}))["createOpportunity"]
    assert result["errors"] == [], result
    opp = result["opportunity"]
    if lost:
        assert (await gql(LOSE_OPP, {"id": opp["id"]}))["updateOpportunity"]["errors"] == []
    return opp


def first_error(result):
    return (result["errors"][0]["field"], result["errors"][0]["code"])


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "ct-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="合同镜像客户")
    b_contract = await sign(b, b_customer["id"], name="镜像合同 mirrored", number="B-MIRROR-1")
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "viewer": await gql_as(t.viewer_email),
        "mine": await create_customer(admin, name="合同客户"),
        "other": await create_customer(admin, name="合同别家"),
        "sales_customer": await create_customer(sales, name="Rep Contract Customer"),
        "b": b,
        "b_customer": b_customer,
        "b_contract": b_contract,
        "b_delivery": await deliver(b, b_contract["id"]),
        "b_opportunity": await opportunity(b, b_customer["id"], "Their deal"),
    }


async def audit_actions(db, t, global_id):
    async with db.tenant(t.ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(global_id)[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return list(rows.scalars())


async def test_contract_lifecycle_with_audit(db, world) -> None:
    gql, mine = world["admin"], world["mine"]
    opp = await opportunity(gql, mine["id"], "维保商机")
    made = await sign(
        gql,
        mine["id"],
        number="HT-2026-001",
        signedOn="2025-12-20",
        amount="120000.50",
        currency="cny",
        opportunityId=opp["id"],
        terms="Net 30",
    )
    assert made["status"] == "DRAFT" and made["currency"] == "CNY"
    assert made["amount"] == "120000.50" and made["owner"] == {"name": "Admin"}
    assert made["customer"] == {"name": "合同客户"} and made["opportunity"] == {"id": opp["id"]}
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "Contract"
    auto = await sign(gql, mine["id"])
    assert (
        auto["number"].startswith("CT-") and auto["currency"] == "CNY" and auto["amount"] == "0.00"
    )
    page = (
        await gql(
            LIST,
            {
                "first": 10,
                "filter": {
                    "customerId": {"eq": mine["id"]},
                    "amount": {"gte": "100000"},
                    "status": {"in": ["DRAFT", "ACTIVE"]},
                    "startsOn": {"gte": "2026-01-01"},
                },
                "order": [{"field": "AMOUNT", "direction": "DESC"}],
            },
        )
    )["contracts"]
    assert [e["node"]["id"] for e in page["edges"]] == [made["id"]] and page["totalCount"] == 1
    assert (await gql(LIST, {"first": 5, "search": "HT-2026-001"}))["contracts"]["totalCount"] == 1

    active = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"status": "ACTIVE"}}))[
        "updateContract"
    ]
    assert active["errors"] == [] and active["contract"]["status"] == "ACTIVE"
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"notes": "x"}}))["updateContract"]
    assert first_error(stale) == ("version", "CONFLICT")

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteContract"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["contract"] is None
    # The number is free again while the contract is deleted; restoring it then is refused.
    taken = await sign(gql, world["other"]["id"], number="HT-2026-001")
    refused = (await gql(RESTORE, {"id": made["id"]}))["restoreContract"]
    assert first_error(refused) == ("input.number", "DUPLICATE")
    assert (await gql(DESTROY, {"id": taken["id"]}))["destroyContract"]["errors"] == []
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreContract"]
    assert restored["errors"] == [] and restored["contract"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyContract"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["contract"] is None
    assert await audit_actions(db, world["t"], made["id"]) == [
        "create",
        "update",
        "delete",
        "restore",
        "destroy",
    ]


async def test_status_workflow(world) -> None:
    gql = world["admin"]
    made = await sign(gql, world["mine"]["id"])
    for status in ("COMPLETED", "EXPIRED", "TERMINATED"):
        skipped = (await gql(UPDATE, {"id": made["id"], "i": {"status": status}}))["updateContract"]
        assert first_error(skipped) == ("input.status", "INVALID"), status
    assert (await gql(UPDATE, {"id": made["id"], "i": {"status": "ACTIVE"}}))["updateContract"][
        "errors"
    ] == []
    done = (await gql(UPDATE, {"id": made["id"], "i": {"status": "TERMINATED"}}))["updateContract"]
    assert done["errors"] == [] and done["contract"]["status"] == "TERMINATED"
    for status in ("ACTIVE", "DRAFT", "COMPLETED"):
        final = (await gql(UPDATE, {"id": made["id"], "i": {"status": status}}))["updateContract"]
        assert first_error(final) == ("input.status", "INVALID")
    started = await sign(gql, world["mine"]["id"], status="ACTIVE")
    assert started["status"] == "ACTIVE"
    wrong = await gql(CREATE, {"c": world["mine"]["id"], "i": {**BASE, "status": "COMPLETED"}})
    assert first_error(wrong["createContract"]) == ("input.status", "INVALID")


async def test_active_contracts_expire_by_date(db, world) -> None:
    gql = world["admin"]
    old = await sign(gql, world["mine"]["id"], startsOn="2020-01-01", endsOn="2020-12-31")
    running = await sign(gql, world["mine"]["id"], startsOn="2020-01-01", endsOn="2099-12-31")
    draft = await sign(gql, world["mine"]["id"], startsOn="2020-01-01", endsOn="2020-06-30")
    for c in (old, running):
        await gql(UPDATE, {"id": c["id"], "i": {"status": "ACTIVE"}})
    from datetime import date

    async with db.tenant(world["t"].ref).transaction() as session:
        expired = await contracts_service.expire_ended(
            session, Principal.system(world["t"].ref), date(2026, 1, 1)
        )
    assert from_global_id(old["id"])[1] in {c.id for c in expired}
    assert (await gql(GET, {"id": old["id"]}))["contract"]["status"] == "EXPIRED"
    assert (await gql(GET, {"id": running["id"]}))["contract"]["status"] == "ACTIVE"
    assert (await gql(GET, {"id": draft["id"]}))["contract"]["status"] == "DRAFT"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"name": ""}, "input.name", "REQUIRED"),
        ({"name": "x" * 201}, "input.name", "TOO_LONG"),
        ({"endsOn": "2025-12-31"}, "input.endsOn", "INVALID"),
        ({"endsOn": "2026-01-01"}, "input.endsOn", "INVALID"),
        ({"signedOn": "2027-01-01"}, "input.endsOn", "INVALID"),
        ({"amount": "-1"}, "input.amount", "INVALID"),
        ({"amount": "1.234"}, "input.amount", "INVALID"),
        ({"currency": "RM1"}, "input.currency", "INVALID"),
        ({"ownerId": "VXNlcjpub3QtYS11dWlk"}, "input.ownerId", "INVALID"),
        (
            {"opportunityId": "T3Bwb3J0dW5pdHk6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"},
            "input.opportunityId",
            "NOT_FOUND",
        ),
    ],
)
async def test_invalid_contract_input_names_the_field(world, fields, field, code) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["contracts"]["totalCount"]
    result = (await gql(CREATE, {"c": mine["id"], "i": {**BASE, **fields}}))["createContract"]
    assert result["contract"] is None
    assert first_error(result) == (field, code), result
    assert (await gql(LIST, {"first": 0}))["contracts"]["totalCount"] == before


async def test_opportunity_must_be_the_customers_and_not_lost(world) -> None:
    gql, mine = world["admin"], world["mine"]
    others = await opportunity(gql, world["other"]["id"], "别家商机")
    lost = await opportunity(gql, mine["id"], "丢单", lost=True)
    for opp_id, code in (
        (others["id"], "NOT_FOUND"),
        (world["b_opportunity"]["id"], "NOT_FOUND"),
        (lost["id"], "INVALID"),
    ):
        result = (await gql(CREATE, {"c": mine["id"], "i": {**BASE, "opportunityId": opp_id}}))[
            "createContract"
        ]
        assert first_error(result) == ("input.opportunityId", code)
    made = await sign(gql, mine["id"])
    moved = await gql(UPDATE, {"id": made["id"], "i": {"opportunityId": others["id"]}})
    assert first_error(moved["updateContract"]) == ("input.opportunityId", "NOT_FOUND")
    assert (await gql(GET, {"id": made["id"]}))["contract"]["opportunity"] is None


def under(customer: dict, inputs: list[dict]) -> list[dict]:
    return [{"customerId": customer["id"], "input": i} for i in inputs]


async def test_batch_create_is_all_or_nothing(world) -> None:
    gql, mine = world["admin"], world["mine"]
    before = (await gql(LIST, {"first": 0}))["contracts"]["totalCount"]
    bad = (
        await gql(
            CREATE_MANY,
            {"i": under(mine, [{**BASE, "number": "BATCH-1"}, {**BASE, "endsOn": "2025-01-01"}])},
        )
    )["createContracts"]
    assert bad["contracts"] == [] and first_error(bad) == ("inputs.1.input.endsOn", "INVALID")
    dup = (
        await gql(
            CREATE_MANY,
            {"i": under(mine, [{**BASE, "number": "BATCH-1"}, {**BASE, "number": "BATCH-1"}])},
        )
    )["createContracts"]
    assert first_error(dup) == ("inputs.1.input.number", "DUPLICATE")
    assert (await gql(LIST, {"first": 0}))["contracts"]["totalCount"] == before
    ok = (await gql(CREATE_MANY, {"i": under(mine, [BASE, BASE])}))["createContracts"]
    assert ok["errors"] == [] and len(ok["contracts"]) == 2


async def test_delivery_lifecycle_with_audit(db, world) -> None:
    gql = world["admin"]
    contract = await sign(gql, world["mine"]["id"], number="HT-DLV-1")
    made = await deliver(gql, contract["id"], content="Install 安装")
    assert made["acceptanceStatus"] == "PENDING" and made["contract"]["number"] == "HT-DLV-1"
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "ContractDelivery"
    listed = (await gql(GET, {"id": contract["id"]}))["contract"]["deliveries"]
    assert [d["id"] for d in listed] == [made["id"]]
    page = await gql(LIST_D, {"first": 5, "filter": {"contractId": {"eq": contract["id"]}}})
    assert page["contractDeliveries"]["totalCount"] == 1

    delivered = (
        await gql(UPDATE_D, {"id": made["id"], "v": 1, "i": {"deliveredOn": "2026-02-27"}})
    )["updateContractDelivery"]
    assert delivered["errors"] == []
    accepted = (
        await gql(
            UPDATE_D,
            {"id": made["id"], "i": {"acceptanceStatus": "ACCEPTED", "acceptedOn": "2026-03-02"}},
        )
    )["updateContractDelivery"]["contractDelivery"]
    assert accepted["acceptanceStatus"] == "ACCEPTED" and accepted["acceptedOn"] == "2026-03-02"
    rejected = (await gql(UPDATE_D, {"id": made["id"], "i": {"acceptanceStatus": "REJECTED"}}))[
        "updateContractDelivery"
    ]["contractDelivery"]
    assert rejected["acceptanceStatus"] == "REJECTED" and rejected["acceptedOn"] is None
    stale = await gql(UPDATE_D, {"id": made["id"], "v": 1, "i": {"content": "x"}})
    assert first_error(stale["updateContractDelivery"]) == ("version", "CONFLICT")

    assert (await gql(DELETE_D, {"id": made["id"]}))["deleteContractDelivery"]["errors"] == []
    assert (await gql(GET_D, {"id": made["id"]}))["contractDelivery"] is None
    assert (await gql(GET, {"id": contract["id"]}))["contract"]["deliveries"] == []
    restored = (await gql(RESTORE_D, {"id": made["id"]}))["restoreContractDelivery"]
    assert restored["errors"] == [] and restored["contractDelivery"]["deletedAt"] is None
    assert (await gql(DESTROY_D, {"id": made["id"]}))["destroyContractDelivery"] == {
        "destroyedId": made["id"],
        "errors": [],
    }
    assert await audit_actions(db, world["t"], made["id"]) == [
        "create",
        "update",
        "update",
        "update",
        "delete",
        "restore",
        "destroy",
    ]
    schedule = (
        await gql(
            CREATE_DS,
            {
                "c": contract["id"],
                "i": [
                    {"dueOn": "2026-05-01", "content": "A"},
                    {"dueOn": "2027-05-01", "content": "B"},
                ],
            },
        )
    )["createContractDeliveries"]
    assert schedule["contractDeliveries"] == [] and first_error(schedule) == (
        "inputs.1.dueOn",
        "INVALID",
    )
    assert (await gql(GET, {"id": contract["id"]}))["contract"]["deliveries"] == []


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"dueOn": "2025-12-31"}, "input.dueOn", "INVALID"),
        ({"dueOn": "2027-01-01"}, "input.dueOn", "INVALID"),
        ({"content": ""}, "input.content", "REQUIRED"),
        ({"acceptanceStatus": "ACCEPTED"}, "input.deliveredOn", "REQUIRED"),
        (
            {"acceptanceStatus": "ACCEPTED", "deliveredOn": "2026-03-01"},
            "input.acceptedOn",
            "REQUIRED",
        ),
        (
            {
                "acceptanceStatus": "ACCEPTED",
                "deliveredOn": "2026-03-05",
                "acceptedOn": "2026-03-01",
            },
            "input.acceptedOn",
            "INVALID",
        ),
        ({"acceptedOn": "2026-03-01", "deliveredOn": "2026-03-01"}, "input.acceptedOn", "INVALID"),
    ],
)
async def test_invalid_delivery_input_names_the_field(world, fields, field, code) -> None:
    gql = world["admin"]
    contract = await sign(gql, world["mine"]["id"])
    data = {"dueOn": "2026-03-01", "content": "Batch", **fields}
    result = (await gql(CREATE_D, {"c": contract["id"], "i": data}))["createContractDelivery"]
    assert result["contractDelivery"] is None
    assert first_error(result) == (field, code), result
    assert (await gql(GET, {"id": contract["id"]}))["contract"]["deliveries"] == []


async def test_contract_dates_cannot_leave_a_delivery_outside(world) -> None:
    gql = world["admin"]
    contract = await sign(gql, world["mine"]["id"], startsOn="2026-01-01", endsOn="2026-12-31")
    await deliver(gql, contract["id"], dueOn="2026-02-01")
    await deliver(gql, contract["id"], dueOn="2026-11-30")
    for fields, field in (
        ({"startsOn": "2026-03-01"}, "input.startsOn"),
        ({"endsOn": "2026-10-31"}, "input.endsOn"),
    ):
        result = (await gql(UPDATE, {"id": contract["id"], "i": fields}))["updateContract"]
        assert first_error(result) == (field, "INVALID"), result
    backwards = await gql(UPDATE, {"id": contract["id"], "i": {"endsOn": "2025-06-30"}})
    assert first_error(backwards["updateContract"]) == ("input.endsOn", "INVALID")
    stored = (await gql(GET, {"id": contract["id"]}))["contract"]
    assert (stored["startsOn"], stored["endsOn"], stored["version"]) == (
        "2026-01-01",
        "2026-12-31",
        1,
    )
    widened = await gql(
        UPDATE, {"id": contract["id"], "i": {"startsOn": "2025-12-01", "endsOn": "2027-01-31"}}
    )
    assert widened["updateContract"]["errors"] == []


async def test_other_tenants_contracts_do_not_exist(world) -> None:
    a = world["admin"]
    theirs, their_delivery = world["b_contract"]["id"], world["b_delivery"]["id"]
    assert (await a(GET, {"id": theirs}))["contract"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a(GET_D, {"id": their_delivery}))["contractDelivery"] is None
    assert (await a(NODE, {"id": their_delivery}))["node"] is None
    assert (await a('{ contracts(first: 50, search: "镜像合同") { totalCount } }'))["contracts"][
        "totalCount"
    ] == 0
    assert (await a(LIST_D, {"first": 50, "filter": {"contractId": {"eq": theirs}}}))[
        "contractDeliveries"
    ]["totalCount"] == 0
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"notes": "hijacked"}}, "updateContract"),
        (DELETE, {"id": theirs}, "deleteContract"),
        (RESTORE, {"id": theirs}, "restoreContract"),
        (DESTROY, {"id": theirs}, "destroyContract"),
        (CREATE, {"c": world["b_customer"]["id"], "i": BASE}, "createContract"),
        (
            CREATE_D,
            {"c": theirs, "i": {"dueOn": "2026-03-01", "content": "x"}},
            "createContractDelivery",
        ),
        (UPDATE_D, {"id": their_delivery, "i": {"content": "hijacked"}}, "updateContractDelivery"),
        (DELETE_D, {"id": their_delivery}, "deleteContractDelivery"),
        (RESTORE_D, {"id": their_delivery}, "restoreContractDelivery"),
        (DESTROY_D, {"id": their_delivery}, "destroyContractDelivery"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    # A number used in the other tenant is free here.
    assert (await sign(a, world["mine"]["id"], number="B-MIRROR-1"))["number"] == "B-MIRROR-1"
    still = (await world["b"](GET, {"id": theirs}))["contract"]
    assert still["notes"] is None and still["deletedAt"] is None and len(still["deliveries"]) == 1


async def test_scope_and_permissions(world) -> None:
    admin, sales, viewer = world["admin"], world["sales"], world["viewer"]
    theirs = await sign(admin, world["mine"]["id"], name="admin's contract")
    their_delivery = await deliver(admin, theirs["id"])
    own = await sign(sales, world["sales_customer"]["id"], name="rep's contract")
    page = (await sales(LIST, {"first": 50}))["contracts"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["contract"] is None
    assert (await sales(GET_D, {"id": their_delivery["id"]}))["contractDelivery"] is None
    assert (await sales(LIST_D, {"first": 50}))["contractDeliveries"]["totalCount"] == 0
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"notes": "x"}}, "updateContract"),
        (DELETE, {"id": theirs["id"]}, "deleteContract"),
        (CREATE, {"c": world["mine"]["id"], "i": BASE}, "createContract"),
        (
            CREATE_D,
            {"c": theirs["id"], "i": {"dueOn": "2026-03-01", "content": "x"}},
            "createContractDelivery",
        ),
        (UPDATE_D, {"id": their_delivery["id"], "i": {"content": "x"}}, "updateContractDelivery"),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = (await sales(UPDATE, {"id": own["id"], "i": {"ownerId": admin_id}}))["updateContract"]
    assert first_error(handed) == ("input.ownerId", "FORBIDDEN")

    assert (await viewer(GET, {"id": theirs["id"]}))["contract"]["name"] == "admin's contract"
    for doc, variables in (
        (CREATE, {"c": world["mine"]["id"], "i": BASE}),
        (UPDATE, {"id": theirs["id"], "i": {"notes": "x"}}),
        (CREATE_D, {"c": theirs["id"], "i": {"dueOn": "2026-03-01", "content": "x"}}),
        (DESTROY, {"id": theirs["id"]}),
    ):
        response = await viewer.post(doc, variables)
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allows(Role.sales, "contract:update") and allows(Role.manager, "contract:create")
    assert allows(Role.service, "contract:read") and not allows(Role.service, "contract:update")
    assert not allows(Role.sales, "contract:destroy")


PAGE = """
{ customers(first: 50, orderBy: [{field: NAME}]) { edges { node { id name
    contracts(first: 3) { number owner { name } customer { name }
      deliveries { dueOn contract { number } } orders(first: 2) { number } } } } } }
"""


async def test_page_with_contracts_costs_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "ct-pager")
    gql = await gql_as(t.admin_email)
    for i in range(30):
        c = await create_customer(gql, name=f"Signer {i:02d}")
        for n in range(1 + i % 2):
            contract = await sign(gql, c["id"], number=f"P-{i}-{n}")
            await deliver(gql, contract["id"], content=f"d{i}{n}")
    await gql(PAGE)  # warm: the token's membership lookup etc.
    counts = []
    for first in (5, 30):
        counter = count_statements()
        data = await gql(PAGE.replace("first: 50", f"first: {first}"))
        edges = data["customers"]["edges"]
        assert len(edges) == first and all(e["node"]["contracts"] for e in edges)
        assert all(
            c["deliveries"][0]["contract"]["number"] == c["number"]
            for e in edges
            for c in e["node"]["contracts"]
        )
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    # auth + page + count + contracts + deliveries + orders + users + customers (+ contract loader)
    assert counts[0] <= 10, counts
