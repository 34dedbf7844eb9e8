"""The "visit planned" mail: queued with the plan (same transaction) to the rep it is for, unless
the rep planned it; one per plan, rep and time (a reschedule mails again, other edits do not);
sent by the worker's actor through SMTP with an unsubscribe link; each tenant's plans mail only
from its own outbox."""

from __future__ import annotations

from typing import Any

import pytest
from crmtest import make_tenant
from gqldocs import create_customer

from crm_api.relay import to_global_id
from crm_core.mail import tasks
from crm_core.mail.models import MailStatus
from crm_core.messaging.outbox import NullDispatcher

ERRORS = "errors { field code message }"
CREATE_PLAN = f"""mutation($c: ID!, $i: CreateVisitPlanInput!) {{
  createVisitPlan(customerId: $c, input: $i) {{ visitPlan {{ id version }} {ERRORS} }} }}"""
UPDATE_PLAN = f"""mutation($id: ID!, $i: UpdateVisitPlanInput!) {{
  updateVisitPlan(id: $id, input: $i) {{ visitPlan {{ id version }} {ERRORS} }} }}"""
PLAN = {"plannedAt": "2026-06-01T10:00:00+08:00", "purpose": "介绍新品 new line"}


class Runtime:
    """What ``mail.send_mail`` takes from the worker: settings, the database, a dispatcher."""

    def __init__(self, settings: Any, db: Any) -> None:
        self.settings, self._db = settings, db

    async def database(self) -> Any:
        return self._db

    @property
    def dispatcher(self) -> Any:
        return NullDispatcher()


@pytest.fixture(scope="module")
async def world(db: Any, gql_as: Any) -> dict[str, Any]:
    a = await make_tenant(db, "vp-alpha")
    b = await make_tenant(db, "vp-bravo")
    admin, b_admin = await gql_as(a.admin_email), await gql_as(b.admin_email)
    sales = await gql_as(a.sales_email)
    return {
        "a": a,
        "b": b,
        "admin": admin,
        "sales": sales,
        "sales_customer": await create_customer(sales, name="Rep's own customer"),
        "b_admin": b_admin,
        "customer": await create_customer(admin, name="拜访通知客户"),
        "b_customer": await create_customer(b_admin, name="拜访通知客户"),
    }


async def plan(gql: Any, customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    result = (await gql(CREATE_PLAN, {"c": customer["id"], "i": {**PLAN, **fields}}))[
        "createVisitPlan"
    ]
    assert result["errors"] == [], result
    return result["visitPlan"]  # type: ignore[no-any-return]


async def test_the_rep_gets_one_mail_per_plan_and_time(world, kit, settings, db) -> None:
    a, admin = world["a"], world["admin"]
    rep = to_global_id("User", a.sales.user_id)
    made = await plan(admin, world["customer"], visitorId=rep, place="上海 浦东")
    rows = await kit.queued(a.ref, "visit.planned:")
    assert [(r.to_address, r.template, r.transactional) for r in rows] == [
        (a.sales_email, "visit_planned", False)
    ]
    # The worker's actor sends it, with the tenant's unsubscribe link.
    cfg = settings.model_copy(update={"mail": kit.cfg})
    await tasks.send_mail(tdb=db.tenant(a.ref), runtime=Runtime(cfg, db), mail_id=str(rows[0].id))
    assert [r.status for r in await kit.queued(a.ref, "visit.planned:")] == [MailStatus.sent]
    msg = kit.box.to(a.sales_email)[-1]
    assert "拜访通知客户" in msg["Subject"] and "2026-06-01 10:00" in msg["Subject"]
    assert "Admin" in kit.text(msg) and "上海 浦东" in kit.text(msg)
    assert msg["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/u/")
    # Other edits: no mail. A new time: a new mail (a new event).
    edited = await admin(UPDATE_PLAN, {"id": made["id"], "i": {"notes": "带样品"}})
    assert edited["updateVisitPlan"]["errors"] == []
    assert len(await kit.queued(a.ref, "visit.planned:")) == 1
    moved = await admin(
        UPDATE_PLAN, {"id": made["id"], "i": {"plannedAt": "2026-06-02T15:00:00+08:00"}}
    )
    assert moved["updateVisitPlan"]["errors"] == []
    rows = await kit.queued(a.ref, "visit.planned:")
    assert len(rows) == 2 and rows[1].context["planned_at"].startswith("2026-06-02 15:00")


async def test_no_mail_when_the_rep_plans_their_own_visit(world, kit) -> None:
    before = len(await kit.queued(world["a"].ref, "visit.planned:"))
    await plan(world["sales"], world["sales_customer"], purpose="自己安排 own plan")
    assert len(await kit.queued(world["a"].ref, "visit.planned:")) == before


async def test_each_tenant_mails_from_its_own_outbox(world, kit) -> None:
    a, b = world["a"], world["b"]
    a_before = {r.event_key for r in await kit.queued(a.ref, "visit.planned:")}
    await plan(
        world["b_admin"], world["b_customer"], visitorId=to_global_id("User", b.sales.user_id)
    )
    b_rows = await kit.queued(b.ref, "visit.planned:")
    assert [r.to_address for r in b_rows] == [b.sales_email]
    assert {r.event_key for r in await kit.queued(a.ref, "visit.planned:")} == a_before
    # A's admin cannot plan a visit for B's rep (not a member): no plan, no mail anywhere.
    foreign = await world["admin"](
        CREATE_PLAN,
        {
            "c": world["customer"]["id"],
            "i": {**PLAN, "visitorId": to_global_id("User", b.sales.user_id)},
        },
    )
    assert foreign["createVisitPlan"]["errors"][0]["field"] == "input.visitorId"
    assert {r.event_key for r in await kit.queued(a.ref, "visit.planned:")} == a_before
    assert len(await kit.queued(b.ref, "visit.planned:")) == 1
