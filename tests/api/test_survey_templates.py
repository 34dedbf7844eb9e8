"""Survey templates (客户满意度调查): lifecycle with audit, questions validated item by item with
their paths, kind and period rules, one active template per trigger, isolation, permissions."""

from __future__ import annotations

import pytest
from crmtest import make_tenant
from gqldocs import NODE
from sqlalchemy import select

from crm_api.relay import from_global_id
from crm_core.audit.models import AuditEntry
from crm_core.identity.permissions import allows
from crm_core.tenants.models import Role

ERRORS = "errors { field code message }"
FIELDS = (
    "id name kind language trigger periodDays intro active version deletedAt "
    "questions { key kind text required options }"
)
CREATE = f"""
mutation($i: CreateSurveyTemplateInput!) {{
  createSurveyTemplate(input: $i) {{ surveyTemplate {{ {FIELDS} }} {ERRORS} }}
}}"""
CREATE_MANY = f"""
mutation($i: [CreateSurveyTemplateInput!]!) {{
  createSurveyTemplates(inputs: $i) {{ surveyTemplates {{ id }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateSurveyTemplateInput!, $v: Int) {{
  updateSurveyTemplate(id: $id, input: $i, version: $v) {{ surveyTemplate {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!, $v: Int) {{ deleteSurveyTemplate(id: $id, version: $v) {{ surveyTemplate {{ id deletedAt }} {ERRORS} }} }}"
RESTORE = f"mutation($id: ID!) {{ restoreSurveyTemplate(id: $id) {{ surveyTemplate {{ id deletedAt }} {ERRORS} }} }}"
DESTROY = f"mutation($id: ID!) {{ destroySurveyTemplate(id: $id) {{ destroyedId {ERRORS} }} }}"
GET = f"query($id: ID!) {{ surveyTemplate(id: $id) {{ {FIELDS} }} }}"
LIST = """
query($filter: SurveyTemplateFilter, $search: String, $del: Boolean! = false) {
  surveyTemplates(first: 50, filter: $filter, search: $search, includeDeleted: $del) {
    totalCount edges { node { id name active trigger } }
  }
}"""
CSAT_Q = {"key": "overall", "kind": "CSAT", "text": "您对本次服务满意吗？"}
NPS_Q = {"key": "recommend", "kind": "NPS", "text": "How likely are you to recommend us?"}
TEXT_Q = {"key": "why", "kind": "TEXT", "text": "Why?", "required": False}
CHOICE_Q = {
    "key": "channel",
    "kind": "SINGLE_CHOICE",
    "text": "How did you reach us?",
    "options": ["电话 phone", "邮件 e-mail"],
}
BASE = {"name": "工单回访 Ticket CSAT", "kind": "CSAT", "trigger": "MANUAL", "questions": [CSAT_Q]}


async def template(gql, **fields):
    result = (await gql(CREATE, {"i": {**BASE, **fields}}))["createSurveyTemplate"]
    assert result["errors"] == [], result
    return result["surveyTemplate"]


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "sv-alpha")
    admin = await gql_as(t.admin_email)
    b = await gql_as(tenant_b.admin_email)
    return {
        "t": t,
        "admin": admin,
        "sales": await gql_as(t.sales_email),
        "viewer": await gql_as(t.viewer_email),
        "b": b,
        "b_template": await template(b, name="镜像 mirrored survey", trigger="COMPLAINT_CLOSED"),
    }


async def test_create_read_update_delete_restore_destroy_with_audit(db, world) -> None:
    gql = world["admin"]
    made = await template(
        gql,
        kind="MIXED",
        language="EN",
        trigger="PERIODIC",
        periodDays=90,
        intro="Two minutes, please.",
        questions=[CSAT_Q, NPS_Q, TEXT_Q, CHOICE_Q],
    )
    assert made["trigger"] == "PERIODIC" and made["periodDays"] == 90 and made["active"] is True
    assert [q["key"] for q in made["questions"]] == ["overall", "recommend", "why", "channel"]
    assert made["questions"][3]["options"] == ["电话 phone", "邮件 e-mail"]
    assert made["questions"][2]["required"] is False and made["questions"][0]["options"] is None
    assert (await gql(NODE, {"id": made["id"]}))["node"]["__typename"] == "SurveyTemplate"
    default = await template(gql, name="默认语言", active=False)
    assert default["language"] == "ZH"

    # Leaving the periodic trigger drops the period; questions are replaced as a whole.
    moved = (
        await gql(
            UPDATE,
            {"id": made["id"], "v": 1, "i": {"trigger": "TICKET_RESOLVED", "questions": [NPS_Q]}},
        )
    )["updateSurveyTemplate"]
    assert moved["errors"] == [], moved
    assert moved["surveyTemplate"]["periodDays"] is None
    assert [q["key"] for q in moved["surveyTemplate"]["questions"]] == ["recommend"]
    stale = (await gql(UPDATE, {"id": made["id"], "v": 1, "i": {"name": "x"}}))[
        "updateSurveyTemplate"
    ]
    assert stale["errors"][0]["code"] == "CONFLICT" and stale["errors"][0]["field"] == "version"

    assert (await gql(DELETE, {"id": made["id"], "v": 2}))["deleteSurveyTemplate"]["errors"] == []
    assert (await gql(GET, {"id": made["id"]}))["surveyTemplate"] is None
    listed = await gql(LIST, {"filter": {"trigger": {"eq": "TICKET_RESOLVED"}}, "del": True})
    assert listed["surveyTemplates"]["totalCount"] == 1
    restored = (await gql(RESTORE, {"id": made["id"]}))["restoreSurveyTemplate"]
    assert restored["errors"] == [] and restored["surveyTemplate"]["deletedAt"] is None
    destroyed = (await gql(DESTROY, {"id": made["id"]}))["destroySurveyTemplate"]
    assert destroyed == {"destroyedId": made["id"], "errors": []}
    assert (await gql(GET, {"id": made["id"]}))["surveyTemplate"] is None

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(made["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert list(rows.scalars()) == ["create", "update", "delete", "restore", "destroy"]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        (
            {"questions": [CSAT_Q, {**CHOICE_Q, "options": ["only one"]}]},
            "input.questions.1.options",
            "INVALID",
        ),
        (
            {"questions": [CSAT_Q, {**CHOICE_Q, "options": None}]},
            "input.questions.1.options",
            "INVALID",
        ),
        (
            {"questions": [CSAT_Q, {**TEXT_Q, "options": ["a", "b"]}]},
            "input.questions.1.options",
            "INVALID",
        ),
        (
            {"questions": [CSAT_Q, {**CHOICE_Q, "options": ["same", "same"]}]},
            "input.questions.1.options",
            "INVALID",
        ),
        (
            {"questions": [CSAT_Q, {**TEXT_Q, "key": "Not A Slug"}]},
            "input.questions.1.key",
            "INVALID",
        ),
        (
            {"questions": [CSAT_Q, {**TEXT_Q, "key": "overall"}]},
            "input.questions.1.key",
            "DUPLICATE",
        ),
        ({"questions": [CSAT_Q, {**TEXT_Q, "text": ""}]}, "input.questions.1.text", "REQUIRED"),
        ({"questions": []}, "input.questions", "REQUIRED"),
        ({"questions": [TEXT_Q]}, "input.questions", "INVALID"),  # csat without a csat question
        ({"kind": "NPS", "questions": [CSAT_Q]}, "input.questions", "INVALID"),
        ({"trigger": "PERIODIC"}, "input.periodDays", "REQUIRED"),
        ({"periodDays": 30}, "input.periodDays", "INVALID"),
        ({"trigger": "PERIODIC", "periodDays": 0}, "input.periodDays", "INVALID"),
        ({"name": ""}, "input.name", "REQUIRED"),
        ({"name": "x" * 201}, "input.name", "TOO_LONG"),
    ],
)
async def test_invalid_input_names_the_field(world, fields, field, code) -> None:
    gql = world["admin"]
    before = (await gql(LIST, {"del": True}))["surveyTemplates"]["totalCount"]
    result = (await gql(CREATE, {"i": {**BASE, "active": False, **fields}}))["createSurveyTemplate"]
    assert result["surveyTemplate"] is None
    assert (result["errors"][0]["field"], result["errors"][0]["code"]) == (field, code), result
    assert (await gql(LIST, {"del": True}))["surveyTemplates"]["totalCount"] == before


async def test_batch_is_all_or_nothing_and_names_the_item(world) -> None:
    gql = world["admin"]
    before = (await gql(LIST, {"del": True}))["surveyTemplates"]["totalCount"]
    bad = {**BASE, "active": False, "questions": [CSAT_Q, {**CHOICE_Q, "options": []}]}
    result = (await gql(CREATE_MANY, {"i": [{**BASE, "active": False}, bad]}))[
        "createSurveyTemplates"
    ]
    assert result["surveyTemplates"] == []
    assert result["errors"][0]["field"] == "inputs.1.questions.1.options"
    assert (await gql(LIST, {"del": True}))["surveyTemplates"]["totalCount"] == before


async def test_one_active_template_per_trigger(world) -> None:
    gql = world["admin"]
    first = await template(gql, name="Complaint follow-up", trigger="COMPLAINT_CLOSED")
    second = (await gql(CREATE, {"i": {**BASE, "trigger": "COMPLAINT_CLOSED"}}))[
        "createSurveyTemplate"
    ]
    assert (second["errors"][0]["field"], second["errors"][0]["code"]) == (
        "input.active",
        "DUPLICATE",
    )
    spare = await template(gql, name="Spare", trigger="COMPLAINT_CLOSED", active=False)
    on = (await gql(UPDATE, {"id": spare["id"], "i": {"active": True}}))["updateSurveyTemplate"]
    assert (on["errors"][0]["field"], on["errors"][0]["code"]) == ("input.active", "DUPLICATE")
    # Another trigger is free; moving an active one onto a taken trigger is refused.
    other = await template(gql, name="Ticket", trigger="TICKET_RESOLVED")
    moved = (await gql(UPDATE, {"id": other["id"], "i": {"trigger": "COMPLAINT_CLOSED"}}))[
        "updateSurveyTemplate"
    ]
    assert (moved["errors"][0]["field"], moved["errors"][0]["code"]) == (
        "input.trigger",
        "DUPLICATE",
    )
    # Deactivate the first, then the spare may be active; the deleted one cannot come back active.
    assert (await gql(UPDATE, {"id": first["id"], "i": {"active": False}}))["updateSurveyTemplate"][
        "errors"
    ] == []
    assert (await gql(UPDATE, {"id": spare["id"], "i": {"active": True}}))["updateSurveyTemplate"][
        "errors"
    ] == []
    assert (await gql(DELETE, {"id": spare["id"]}))["deleteSurveyTemplate"]["errors"] == []
    third = await template(gql, name="Third", trigger="COMPLAINT_CLOSED")
    back = (await gql(RESTORE, {"id": spare["id"]}))["restoreSurveyTemplate"]
    assert (back["errors"][0]["field"], back["errors"][0]["code"]) == ("input.active", "DUPLICATE")
    active = await gql(
        LIST, {"filter": {"trigger": {"eq": "COMPLAINT_CLOSED"}, "active": {"eq": True}}}
    )
    assert [e["node"]["id"] for e in active["surveyTemplates"]["edges"]] == [third["id"]]


async def test_other_tenants_templates_do_not_exist(world) -> None:
    a, theirs = world["admin"], world["b_template"]["id"]
    assert (await a(GET, {"id": theirs}))["surveyTemplate"] is None
    assert (await a(NODE, {"id": theirs}))["node"] is None
    assert (await a(LIST, {"search": "镜像"}))["surveyTemplates"]["totalCount"] == 0
    for doc, variables, name in (
        (UPDATE, {"id": theirs, "i": {"name": "hijacked"}}, "updateSurveyTemplate"),
        (DELETE, {"id": theirs}, "deleteSurveyTemplate"),
        (RESTORE, {"id": theirs}, "restoreSurveyTemplate"),
        (DESTROY, {"id": theirs}, "destroySurveyTemplate"),
    ):
        result = (await a(doc, variables))[name]
        assert result["errors"][0]["code"] == "NOT_FOUND", (name, result)
    # Their active complaint survey does not block ours.
    mine = await template(a, name="Ours", trigger="COMPLAINT_CLOSED", active=False)
    assert mine["active"] is False
    still = (await world["b"](GET, {"id": theirs}))["surveyTemplate"]
    assert still["name"] == "镜像 mirrored survey" and still["deletedAt"] is None


async def test_everyone_reads_only_admins_and_managers_write(world) -> None:
    made = await template(world["admin"], name="Readable", trigger="TICKET_RESOLVED", active=False)
    for who in ("sales", "viewer"):
        gql = world[who]
        assert (await gql(GET, {"id": made["id"]}))["surveyTemplate"]["name"] == "Readable"
        assert (await gql(LIST, {}))["surveyTemplates"]["totalCount"] >= 1
        response = await gql.post(CREATE, {"i": {**BASE, "active": False}})
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", who
        response = await gql.post(UPDATE, {"id": made["id"], "i": {"name": "x"}})
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", who
    assert allows(Role.manager, "survey:create") and allows(Role.manager, "survey:update")
    assert allows(Role.service, "survey:read") and not allows(Role.service, "survey:update")
    assert not allows(Role.sales, "survey:delete") and not allows(Role.manager, "survey:destroy")


async def test_list_page_costs_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "sv-pager")
    gql = await gql_as(t.admin_email)
    for i in range(30):
        await template(gql, name=f"Survey {i:02d}", active=False, questions=[CSAT_Q, CHOICE_Q])
    query = (
        "{ surveyTemplates(first: %d) { edges { node { id name questions { key options } } } } }"
    )
    await gql(query % 30)
    counts = []
    for first in (5, 30):
        counter = count_statements()
        assert len((await gql(query % first))["surveyTemplates"]["edges"]) == first
        counts.append(counter.count)
    assert counts[0] == counts[1] and counts[0] <= 4, counts
