"""Relationship evaluations (客户关系评估表): criteria CRUD (settings:manage), the weighted total and
the recommendation from the company's thresholds, scores checked item by item (a criterion of
another tenant is refused), lifecycle with audit, isolation, scopes, and constant SQL per page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crmtest import make_tenant
from gqldocs import NODE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.evaluations.models import EvaluationScore
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role, Tenant

ERRORS = "errors { field code message }"
CRIT_FIELDS = "id name description weight position active version deletedAt"
CREATE_CRIT = f"""
mutation($i: CreateEvaluationCriterionInput!) {{
  createEvaluationCriterion(input: $i) {{ evaluationCriterion {{ {CRIT_FIELDS} }} {ERRORS} }}
}}"""
CREATE_CRITS = f"""
mutation($i: [CreateEvaluationCriterionInput!]!) {{
  createEvaluationCriteria(inputs: $i) {{ evaluationCriteria {{ id name }} {ERRORS} }}
}}"""
UPDATE_CRIT = f"""
mutation($id: ID!, $i: UpdateEvaluationCriterionInput!, $v: Int) {{
  updateEvaluationCriterion(id: $id, input: $i, version: $v) {{ evaluationCriterion {{ {CRIT_FIELDS} }} {ERRORS} }}
}}"""
DELETE_CRIT = f"mutation($id: ID!) {{ deleteEvaluationCriterion(id: $id) {{ evaluationCriterion {{ id deletedAt }} {ERRORS} }} }}"
RESTORE_CRIT = f"mutation($id: ID!) {{ restoreEvaluationCriterion(id: $id) {{ evaluationCriterion {{ id deletedAt }} {ERRORS} }} }}"
DESTROY_CRIT = (
    f"mutation($id: ID!) {{ destroyEvaluationCriterion(id: $id) {{ destroyedId {ERRORS} }} }}"
)
GET_CRIT = f"query($id: ID!) {{ evaluationCriterion(id: $id) {{ {CRIT_FIELDS} }} }}"
LIST_CRIT = """
query($filter: EvaluationCriterionFilter, $del: Boolean! = false) {
  evaluationCriteria(first: 50, filter: $filter, includeDeleted: $del) { totalCount edges { node { id name } } }
}"""

FIELDS = (
    "id evaluatedOn totalScore recommendation recommendationManual notes version deletedAt "
    "evaluator { name } customer { name } scores { score weight comment criterion { name } }"
)
CREATE = f"""
mutation($c: ID!, $i: CreateRelationshipEvaluationInput!) {{
  createRelationshipEvaluation(customerId: $c, input: $i) {{ relationshipEvaluation {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateRelationshipEvaluationItemInput!]!) {{
  createRelationshipEvaluations(inputs: $i) {{ relationshipEvaluations {{ id totalScore }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateRelationshipEvaluationInput!, $v: Int) {{
  updateRelationshipEvaluation(id: $id, input: $i, version: $v) {{ relationshipEvaluation {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteRelationshipEvaluation(id: $id, version: $v) {{ relationshipEvaluation {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreRelationshipEvaluation(id: $id) {{ relationshipEvaluation {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = (
    f"mutation($id: ID!) {{ destroyRelationshipEvaluation(id: $id) {{ destroyedId {ERRORS} }} }}"
)
GET = f"query($id: ID!) {{ relationshipEvaluation(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($first: Int, $filter: RelationshipEvaluationFilter, $search: String, $del: Boolean! = false) {
  relationshipEvaluations(first: $first, filter: $filter, search: $search, includeDeleted: $del) {
    totalCount edges { node { id totalScore recommendation } }
  }
}"""


async def criterion(gql, name, weight, **fields):
    result = (await gql(CREATE_CRIT, {"i": {"name": name, "weight": weight, **fields}}))[
        "createEvaluationCriterion"
    ]
    assert result["errors"] == [], result
    return result["evaluationCriterion"]


async def evaluate(gql, customer_id, scores, **fields):
    result = (await gql(CREATE, {"c": customer_id, "i": {"scores": scores, **fields}}))[
        "createRelationshipEvaluation"
    ]
    assert result["errors"] == [], result
    return result["relationshipEvaluation"]


def s(crit, score, **more):
    return {"criterionId": crit["id"], "score": score, **more}


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "ev-alpha")
    admin, sales = await gql_as(t.admin_email), await gql_as(t.sales_email)
    b = await gql_as(tenant_b.admin_email)
    b_customer = await create_customer(b, name="评估镜像客户")
    b_crit = await criterion(b, "镜像 Loyalty", "1")
    return {
        "t": t,
        "admin": admin,
        "sales": sales,
        "viewer": await gql_as(t.viewer_email),
        "mine": await create_customer(admin, name="评估客户"),
        "sales_customer": await create_customer(sales, name="Rep Evaluated Customer"),
        "value": await criterion(admin, "Sales value 销售额", "3", position=1),
        "loyalty": await criterion(admin, "Loyalty 忠诚度", "1", position=2),
        "b": b,
        "b_customer": b_customer,
        "b_crit": b_crit,
        "b_eval": await evaluate(b, b_customer["id"], [s(b_crit, 50)], notes="镜像 mirrored"),
        "b_sales": tenant_b.sales,
    }


async def test_weighted_total_recommendation_and_lifecycle_with_audit(db, world) -> None:
    gql, mine, value, loyalty = world["admin"], world["mine"], world["value"], world["loyalty"]
    # (90*3 + 50*1) / 4 = 80 → develop (≥ 75 by default)
    made = await evaluate(
        gql, mine["id"], [s(value, 90), s(loyalty, 50, comment="新客户")], notes="Q2 review"
    )
    assert Decimal(made["totalScore"]) == Decimal("80.00")
    assert made["recommendation"] == "DEVELOP" and made["recommendationManual"] is False
    assert made["evaluator"] == {"name": "Admin"} and made["customer"] == {"name": "评估客户"}
    assert [(x["criterion"]["name"], Decimal(x["weight"])) for x in made["scores"]] == [
        ("Sales value 销售额", Decimal(3)),
        ("Loyalty 忠诚度", Decimal(1)),
    ]
    assert made["evaluatedOn"]
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "RelationshipEvaluation"

    # New scores recompute the total and recommendation: (40*3 + 10*1) / 4 = 32.5 → end
    changed = (
        await gql(
            UPDATE, {"id": made["id"], "v": 1, "i": {"scores": [s(value, 40), s(loyalty, 10)]}}
        )
    )["updateRelationshipEvaluation"]
    assert changed["errors"] == [], changed
    ev = changed["relationshipEvaluation"]
    assert Decimal(ev["totalScore"]) == Decimal("32.50") and ev["recommendation"] == "END"
    # Only the criteria scored count: 60 alone → maintain
    only = (await gql(UPDATE, {"id": made["id"], "i": {"scores": [s(loyalty, 60)]}}))[
        "updateRelationshipEvaluation"
    ]["relationshipEvaluation"]
    assert Decimal(only["totalScore"]) == Decimal("60.00") and only["recommendation"] == "MAINTAIN"
    assert len(only["scores"]) == 1
    # A person's choice sticks through new scores; null hands it back to the thresholds.
    chosen = (await gql(UPDATE, {"id": made["id"], "i": {"recommendation": "DEVELOP"}}))[
        "updateRelationshipEvaluation"
    ]["relationshipEvaluation"]
    assert chosen["recommendation"] == "DEVELOP" and chosen["recommendationManual"] is True
    kept = (await gql(UPDATE, {"id": made["id"], "i": {"scores": [s(loyalty, 20)]}}))[
        "updateRelationshipEvaluation"
    ]["relationshipEvaluation"]
    assert kept["recommendation"] == "DEVELOP"
    back = (await gql(UPDATE, {"id": made["id"], "i": {"recommendation": None}}))[
        "updateRelationshipEvaluation"
    ]["relationshipEvaluation"]
    assert back["recommendation"] == "END" and back["recommendationManual"] is False

    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"notes": "x"}}))[
        "updateRelationshipEvaluation"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["errors"][0]["field"] == "version"

    assert (await gql(DELETE, {"id": made["id"]}))["deleteRelationshipEvaluation"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["relationshipEvaluation"] is None
    filt = {"customerId": {"eq": mine["id"]}}
    page = (await gql(LIST, {"first": 5, "filter": filt, "del": True}))["relationshipEvaluations"]
    assert page["totalCount"] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreRelationshipEvaluation"]
    assert restored["errors"] == [] and restored["relationshipEvaluation"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroyRelationshipEvaluation"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}

    pk = from_global_id(made["id"])[1]
    async with db.tenant(world["t"].ref).read() as session:
        actions = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == pk)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert list(actions.scalars()) == [
            "create",
            *["update"] * 5,
            "delete",
            "restore",
            "destroy",
        ]
        left = await session.execute(
            select(EvaluationScore).where(EvaluationScore.evaluation_id == pk)
        )
        assert left.first() is None


async def test_tenant_thresholds_decide_the_recommendation(db, world) -> None:
    gql, cid, value = world["admin"], world["mine"]["id"], world["value"]
    async with db.core_transaction() as session:
        row = await session.get(Tenant, world["t"].ref.id)
        row.settings = {**row.settings, "evaluation_thresholds": {"develop": 90, "end": 70}}
    try:
        assert (await evaluate(gql, cid, [s(value, 80)]))["recommendation"] == "MAINTAIN"
        assert (await evaluate(gql, cid, [s(value, 65)]))["recommendation"] == "END"
        assert (await evaluate(gql, cid, [s(value, 90)]))["recommendation"] == "DEVELOP"
    finally:
        async with db.core_transaction() as session:
            row = await session.get(Tenant, world["t"].ref.id)
            row.settings = {k: v for k, v in row.settings.items() if k != "evaluation_thresholds"}
    assert (await evaluate(gql, cid, [s(value, 80)]))["recommendation"] == "DEVELOP"
    # The other tenant keeps the product defaults.
    theirs = await evaluate(world["b"], world["b_customer"]["id"], [s(world["b_crit"], 74.99)])
    assert theirs["recommendation"] == "MAINTAIN"


async def test_criteria_crud_uniqueness_and_permission(db, world) -> None:
    gql = world["admin"]
    made = await criterion(gql, "Payment 回款", "2.5", description="按时回款")
    dup = (await gql(CREATE_CRIT, {"i": {"name": "Payment 回款", "weight": "1"}}))[
        "createEvaluationCriterion"
    ]
    assert (dup["errors"][0]["field"], dup["errors"][0]["code"]) == ("input.name", "DUPLICATE")
    for weight in ("0", "-1"):
        bad = (await gql(CREATE_CRIT, {"i": {"name": "Zero", "weight": weight}}))[
            "createEvaluationCriterion"
        ]
        assert (bad["errors"][0]["field"], bad["errors"][0]["code"]) == ("input.weight", "INVALID")
    batch = (
        await gql(
            CREATE_CRITS, {"i": [{"name": "Batch A", "weight": "1"}, {"name": "", "weight": "1"}]}
        )
    )["createEvaluationCriteria"]
    assert batch["errors"][0]["field"] == "inputs.1.name" and batch["evaluationCriteria"] == []
    assert (await gql(LIST_CRIT, {"filter": {"name": {"eq": "Batch A"}}}))["evaluationCriteria"][
        "totalCount"
    ] == 0
    upd = (
        await gql(UPDATE_CRIT, {"id": made["id"], "v": 1, "i": {"weight": "4", "active": False}})
    )["updateEvaluationCriterion"]
    assert upd["errors"] == [] and upd["evaluationCriterion"]["active"] is False
    stale = (await gql(UPDATE_CRIT, {"id": made["id"], "v": 1, "i": {"weight": "5"}}))[
        "updateEvaluationCriterion"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert (await gql(DELETE_CRIT, {"id": made["id"]}))["deleteEvaluationCriterion"]["errors"] == []
    assert (await gql(GET_CRIT, {"id": made["id"]}))["evaluationCriterion"] is None
    # The name is free again among live criteria; restoring the old one then collides.
    again = await criterion(gql, "Payment 回款", "1")
    clash = (await gql(RESTORE_CRIT, {"id": made["id"]}))["restoreEvaluationCriterion"]
    assert clash["errors"][0]["code"] == "DUPLICATE"
    assert (await gql(DESTROY_CRIT, {"id": again["id"]}))["destroyEvaluationCriterion"][
        "errors"
    ] == []
    restored = (await gql(RESTORE_CRIT, {"id": made["id"]}))["restoreEvaluationCriterion"]
    assert restored["errors"] == []
    # A criterion used by an evaluation cannot be destroyed (deactivate it instead).
    used = world["value"]
    await evaluate(gql, world["mine"]["id"], [s(used, 70)])
    refused = (await gql(DESTROY_CRIT, {"id": used["id"]}))["destroyEvaluationCriterion"]
    assert refused["destroyedId"] is None and refused["errors"][0]["code"] == "CONFLICT"

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(made["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert list(rows.scalars()) == ["create", "update", "delete", "restore"]

    # Criteria are company configuration: sales reps and viewers read, do not write.
    sales = world["sales"]
    assert (await sales(GET_CRIT, {"id": world["value"]["id"]}))["evaluationCriterion"]["name"]
    response = await sales.post(CREATE_CRIT, {"i": {"name": "Rep's", "weight": "1"}})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allows(Role.sales, "evaluation:create") and not allows(Role.sales, "settings:manage")
    viewer = world["viewer"]
    response = await viewer.post(CREATE, {"c": world["mine"]["id"], "i": {"scores": [s(used, 1)]}})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_bad_scores_name_the_item_and_write_nothing(world) -> None:
    gql, cid, value, loyalty = world["admin"], world["mine"]["id"], world["value"], world["loyalty"]
    inactive = await criterion(gql, "Dormant 休眠", "1", active=False)
    filt = {"customerId": {"eq": cid}}
    before = (await gql(LIST, {"first": 0, "filter": filt}))["relationshipEvaluations"][
        "totalCount"
    ]
    cases = [
        (
            [s(value, 50), s(loyalty, 50), s(world["b_crit"], 50)],
            "input.scores.2.criterionId",
            "NOT_FOUND",
        ),
        ([s(value, 50), s(inactive, 50)], "input.scores.1.criterionId", "INVALID"),
        ([s(value, 50), s(value, 60)], "input.scores.1.criterionId", "DUPLICATE"),
        ([s(value, 101)], "input.scores.0.score", "INVALID"),
        ([s(value, -1)], "input.scores.0.score", "INVALID"),
        ([{"criterionId": "bm90LWFuLWlk", "score": 1}], "input.scores.0.criterionId", "INVALID"),
        ([], "input.scores", "REQUIRED"),
    ]
    for scores, field, code in cases:
        result = (await gql(CREATE, {"c": cid, "i": {"scores": scores}}))[
            "createRelationshipEvaluation"
        ]
        assert result["relationshipEvaluation"] is None
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    foreign = to_global_id("User", world["b_sales"].user_id)
    for fields, field, code in (
        ({"notes": "x" * 10_001}, "input.notes", "TOO_LONG"),
        ({"evaluatorId": foreign}, "input.evaluatorId", "NOT_FOUND"),
        ({"evaluatedOn": "2026-13-01"}, None, None),
    ):
        response = await gql.post(CREATE, {"c": cid, "i": {"scores": [s(value, 5)], **fields}})
        body = response.json()
        if field is None:  # not a date at all: refused by the schema itself
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            continue
        result = body["data"]["createRelationshipEvaluation"]
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    made = await evaluate(gql, cid, [s(value, 50)])
    bad = (
        await gql(
            UPDATE, {"id": made["id"], "i": {"scores": [s(world["b_crit"], 99)], "notes": "n"}}
        )
    )["updateRelationshipEvaluation"]
    assert bad["errors"][0]["field"] == "input.scores.0.criterionId"
    stored = (await gql(GET, {"id": made["id"]}))["relationshipEvaluation"]
    assert Decimal(stored["totalScore"]) == Decimal(50) and stored["notes"] is None
    assert stored["version"] == 1
    batch = (
        await gql(
            CREATE_MANY,
            {
                "i": [
                    {"customerId": cid, "input": {"scores": [s(value, 10)]}},
                    {"customerId": cid, "input": {"scores": [s(world["b_crit"], 10)]}},
                ]
            },
        )
    )["createRelationshipEvaluations"]
    assert batch["errors"][0]["field"] == "inputs.1.input.scores.0.criterionId"
    after = (await gql(LIST, {"first": 0, "filter": filt}))["relationshipEvaluations"]["totalCount"]
    assert after == before + 1


async def test_other_tenants_evaluations_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_eval"]["id"]
    assert (await a(GET, {"id": theirs}))["relationshipEvaluation"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a(NODE, {"id": world["b_crit"]["id"]}))["node"] is None
    assert (await a(GET_CRIT, {"id": world["b_crit"]["id"]}))["evaluationCriterion"] is None
    listed = await a('{ relationshipEvaluations(first: 50, search: "镜像") { totalCount } }')
    assert listed["relationshipEvaluations"]["totalCount"] == 0
    names = await a("{ evaluationCriteria(first: 50) { edges { node { name } } } }")
    assert "镜像 Loyalty" not in [e["node"]["name"] for e in names["evaluationCriteria"]["edges"]]
    value = world["value"]
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"notes": "hijacked"}}, "updateRelationshipEvaluation"),
        (DELETE, {"id": theirs}, "deleteRelationshipEvaluation"),
        (RESTORE, {"id": theirs}, "restoreRelationshipEvaluation"),
        (DESTROY, {"id": theirs}, "destroyRelationshipEvaluation"),
        (
            CREATE,
            {"c": world["b_customer"]["id"], "i": {"scores": [s(value, 1)]}},
            "createRelationshipEvaluation",
        ),
        (
            UPDATE_CRIT,
            {"id": world["b_crit"]["id"], "i": {"weight": "9"}},
            "updateEvaluationCriterion",
        ),
        (DELETE_CRIT, {"id": world["b_crit"]["id"]}, "deleteEvaluationCriterion"),
        (DESTROY_CRIT, {"id": world["b_crit"]["id"]}, "destroyEvaluationCriterion"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    still = (await world["b"](GET, {"id": theirs}))["relationshipEvaluation"]
    assert still["notes"] == "镜像 mirrored" and still["deletedAt"] is None


async def test_sales_rep_sees_only_evaluations_of_own_customers(world) -> None:
    admin, sales, value = world["admin"], world["sales"], world["value"]
    theirs = await evaluate(admin, world["mine"]["id"], [s(value, 10)])
    own = await evaluate(sales, world["sales_customer"]["id"], [s(value, 88)])
    assert own["evaluator"] == {"name": "李娜"}
    page = (await sales(LIST, {"first": 50}))["relationshipEvaluations"]
    assert [e["node"]["id"] for e in page["edges"]] == [own["id"]] and page["totalCount"] == 1
    assert (await sales(GET, {"id": theirs["id"]}))["relationshipEvaluation"] is None
    assert (await sales(NODE, {"id": theirs["id"]}))["node"] is None
    for doc, variables, name in (
        (UPDATE, {"id": theirs["id"], "i": {"notes": "x"}}, "updateRelationshipEvaluation"),
        (DELETE, {"id": theirs["id"]}, "deleteRelationshipEvaluation"),
        (
            CREATE,
            {"c": world["mine"]["id"], "i": {"scores": [s(value, 1)]}},
            "createRelationshipEvaluation",
        ),
    ):
        assert (await sales(doc, variables))[name]["errors"][0]["code"] == "NOT_FOUND", name
    admin_id = to_global_id("User", world["t"].admin.user_id)
    handed = (await sales(UPDATE, {"id": own["id"], "i": {"evaluatorId": admin_id}}))[
        "updateRelationshipEvaluation"
    ]
    assert (handed["errors"][0]["field"], handed["errors"][0]["code"]) == (
        "input.evaluatorId",
        "FORBIDDEN",
    )


PAGE = """
{ customers(first: 50) { edges { node { id
    latestEvaluation { totalScore evaluator { name } scores { score criterion { name } } }
    evaluations(first: 3) { recommendation customer { name } scores { criterion { name } } } } } } }
"""


async def test_page_with_evaluations_costs_constant_statements(
    db, gql_as, count_statements
) -> None:
    t = await make_tenant(db, "ev-pager")
    gql = await gql_as(t.admin_email)
    crits = [await criterion(gql, f"C{i}", str(i + 1)) for i in range(3)]
    for i in range(50):
        c = await create_customer(gql, name=f"Evaluated {i:02d}")
        for n in range(1 + i % 2):
            await evaluate(gql, c["id"], [s(crits[0], 10 + n), s(crits[1 + i % 2], 70)])
    await gql(PAGE)
    counts = []
    for first in (5, 50):
        counter = count_statements()
        data = await gql(PAGE.replace("first: 50", f"first: {first}"))
        edges = data["customers"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["latestEvaluation"]["scores"] for e in edges)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    # auth + page + count + evaluations (one per limit: 1 and 3) + scores + criteria + users
    assert counts[0] <= 9, counts
