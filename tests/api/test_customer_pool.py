"""The shared customer pool (公海): visible whole to every role that may claim; claims (with the
max-owned limit, the cooldown, and a race of two claims of one customer); releases by the owner
or a manager; the rules; reclaim of stale customers; and isolation between tenants."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from crmtest import PASSWORD, make_tenant
from gqldocs import create_customer
from sqlalchemy import select, update

from crm_api.relay import from_global_id, to_global_id
from crm_core.audit.models import AuditEntry
from crm_core.customers.models import Customer
from crm_core.errors import DomainError
from crm_core.followups.models import FollowUp
from crm_core.identity.permissions import allows
from crm_core.identity.service import create_user
from crm_core.interactions.models import Interaction
from crm_core.pool import service as pool
from crm_core.tenants.models import Role

ERRORS = "errors { field code message }"
POOL = """
query($first: Int, $after: String, $filter: CustomerFilter, $search: String) {
  customerPool(first: $first, after: $after, filter: $filter, search: $search) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name poolReason poolEnteredAt previousOwner { name } owner { name } } }
  }
}"""
CLAIM = f"mutation($ids: [ID!]!) {{ claimCustomers(ids: $ids) {{ customers {{ id name owner {{ name }} poolReason }} {ERRORS} }} }}"
RELEASE = f"""mutation($ids: [ID!]!, $r: PoolReason) {{
  releaseCustomers(ids: $ids, reason: $r) {{ customers {{ id owner {{ name }} poolReason poolEnteredAt previousOwner {{ name }} }} {ERRORS} }}
}}"""
RULES = "{ poolRules { reclaimAfterDays maxOwned cooldownDays } }"
SET_RULES = f"""mutation($i: PoolRulesInput!) {{
  setPoolRules(input: $i) {{ poolRules {{ reclaimAfterDays maxOwned cooldownDays }} {ERRORS} }}
}}"""
RECLAIM = f"mutation {{ reclaimStaleCustomers {{ reclaimedCount more {ERRORS} }} }}"
GET = (
    "query($id: ID!) { customer(id: $id) { id owner { name } poolReason previousOwner { name } } }"
)
CREATE_INTERACTION = """mutation($c: ID!, $i: CreateInteractionInput!) {
  createInteraction(customerId: $c, input: $i) { interaction { id } errors { field code } } }"""
CREATE_FOLLOW_UP = """mutation($c: ID!, $i: CreateFollowUpInput!) {
  createFollowUp(customerId: $c, input: $i) { followUp { id } errors { field code } } }"""


def pool_ids(data):
    return [e["node"]["id"] for e in data["customerPool"]["edges"]]


async def pooled(admin, name):
    return await create_customer(admin, name=name, ownerId=None)


@pytest.fixture(scope="module")
async def world(db, gql_as, tenant_b):
    t = await make_tenant(db, "pl-alpha")
    users = {}
    for name, role in (("rep2", Role.sales), ("manager", Role.manager), ("agent", Role.service)):
        user = await create_user(
            db,
            email=f"{name}@pl-alpha.cn",
            name=name,
            password=PASSWORD,
            tenant_slug="pl-alpha",
            role=role,
        )
        users[name] = user.id
    signed = {n: await gql_as(f"{n}@pl-alpha.cn") for n in users}
    return {
        "t": t,
        "db": db,
        "admin": await gql_as(t.admin_email),
        "sales": await gql_as(t.sales_email),
        "viewer": await gql_as(t.viewer_email),
        **signed,
        "ids": users,
        "b": await gql_as(tenant_b.admin_email),
        "b_sales": await gql_as(tenant_b.sales_email),
    }


async def set_rules(world, **rules):
    result = (await world["admin"](SET_RULES, {"i": rules}))["setPoolRules"]
    assert result["errors"] == [], result
    return result["poolRules"]


async def test_pool_is_visible_whole_to_claimers_and_claim_release_round_trip(db, world) -> None:
    admin, sales = world["admin"], world["sales"]
    a = await pooled(admin, "公海 Alpha Pool One")
    b = await pooled(admin, "公海 Alpha Pool Two")
    owned = await create_customer(admin, name="Owned by admin")
    # An own-scope sales rep sees the whole pool (not the admin's customer), with the type.
    seen = await sales(POOL, {"first": 50, "search": "公海 Alpha"})
    assert set(pool_ids(seen)) == {a["id"], b["id"]}
    assert owned["id"] not in pool_ids(await sales(POOL, {"first": 100}))
    assert (await sales(GET, {"id": a["id"]}))["customer"] is None  # the scope still applies
    # Only roles that claim see it.
    for who in ("viewer", "agent"):
        response = await world[who].post(POOL, {"first": 5})
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", who
    assert not allows(Role.viewer, "customer:claim") and allows(Role.manager, "customer:claim")

    claimed = (await sales(CLAIM, {"ids": [a["id"]]}))["claimCustomers"]
    assert claimed["errors"] == [], claimed
    assert claimed["customers"][0]["owner"] == {"name": "李娜"}
    assert claimed["customers"][0]["poolReason"] is None
    assert (await sales(GET, {"id": a["id"]}))["customer"]["owner"] == {"name": "李娜"}
    assert a["id"] not in pool_ids(await sales(POOL, {"first": 100}))
    # Not in the pool any more (and someone else's customer is as absent as a missing one).
    again = (await world["rep2"](CLAIM, {"ids": [b["id"], a["id"]]}))["claimCustomers"]
    assert again["customers"] == []
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("ids.1", "NOT_FOUND")]
    assert (await world["rep2"](CLAIM, {"ids": [owned["id"]]}))["claimCustomers"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert b["id"] in pool_ids(await sales(POOL, {"first": 100}))  # all or nothing

    # Release: not by another rep (outside their scope), by the owner; reclaimed is refused.
    other = (await world["rep2"](RELEASE, {"ids": [a["id"]]}))["releaseCustomers"]
    assert (other["errors"][0]["field"], other["errors"][0]["code"]) == ("ids.0", "NOT_FOUND")
    wrong = (await sales(RELEASE, {"ids": [a["id"]], "r": "RECLAIMED"}))["releaseCustomers"]
    assert (wrong["errors"][0]["field"], wrong["errors"][0]["code"]) == ("reason", "INVALID")
    back = (await sales(RELEASE, {"ids": [a["id"]]}))["releaseCustomers"]
    assert back["errors"] == [], back
    row = back["customers"][0]
    assert row["owner"] is None and row["poolReason"] == "RELEASED"
    assert row["previousOwner"] == {"name": "李娜"} and row["poolEnteredAt"]
    twice = (await sales(RELEASE, {"ids": [owned["id"]]}))["releaseCustomers"]
    assert twice["errors"][0]["code"] == "NOT_FOUND"
    # A manager (or admin) puts back a rep's customer.
    assert (await sales(CLAIM, {"ids": [a["id"]]}))["claimCustomers"]["errors"] == []
    by_admin = (await admin(RELEASE, {"ids": [a["id"]], "r": "UNASSIGNED"}))["releaseCustomers"]
    assert by_admin["errors"] == [] and by_admin["customers"][0]["poolReason"] == "UNASSIGNED"
    in_pool = await admin(GET, {"id": a["id"]})
    assert in_pool["customer"]["poolReason"] == "UNASSIGNED"
    sales_id = to_global_id("User", world["t"].sales.user_id)
    filt = {"poolReason": {"eq": "UNASSIGNED"}, "previousOwnerId": {"eq": sales_id}}
    assert pool_ids(await sales(POOL, {"first": 50, "filter": filt})) == [a["id"]]

    async with db.tenant(world["t"].ref).read() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == from_global_id(a["id"])[1])
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        assert list(rows.scalars()) == ["create", "claim", "release", "claim", "release"]


async def test_two_concurrent_claims_of_one_customer_exactly_one_wins(world) -> None:
    for round_ in range(5):
        c = await pooled(world["admin"], f"Contested {round_}")
        results = await asyncio.gather(
            world["sales"](CLAIM, {"ids": [c["id"]]}),
            world["rep2"](CLAIM, {"ids": [c["id"]]}),
        )
        outcomes = [r["claimCustomers"] for r in results]
        winners = [o for o in outcomes if o["errors"] == []]
        losers = [o for o in outcomes if o["errors"]]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert losers[0]["errors"][0]["field"] == "ids.0"
        assert losers[0]["errors"][0]["code"] in ("CONFLICT", "NOT_FOUND")
        owner = (await world["admin"](GET, {"id": c["id"]}))["customer"]["owner"]["name"]
        assert owner == winners[0]["customers"][0]["owner"]["name"]


async def test_conditional_update_lets_only_the_first_of_two_open_claims_win(db, world) -> None:
    """Deterministic form of the race: the second claim waits on the first's row lock, then
    finds the customer owned and answers CONFLICT for the item."""
    c = await pooled(world["admin"], "Contested deterministically")
    pk = from_global_id(c["id"])[1]
    t, tdb = world["t"], db.tenant(world["t"].ref)
    rep2 = t.sales.__class__(world["ids"]["rep2"], t.ref, Role.sales)
    async with tdb.transaction() as first:
        assert [r.id for r in await pool.claim(first, t.sales, [pk])] == [pk]

        async def second() -> list[str]:
            try:
                async with tdb.transaction() as session:
                    await pool.claim(session, rep2, [pk])
            except DomainError as exc:
                return [f"{e.field}:{e.code}" for e in exc.errors]
            return []

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # blocked on the first claim's row lock
    assert await waiting == ["ids.0:CONFLICT"]
    assert (await world["admin"](GET, {"id": c["id"]}))["customer"]["owner"] == {"name": "李娜"}


async def test_max_owned_limit_refuses_the_items_beyond_it(world) -> None:
    rep = world["manager"]  # owns nothing yet
    customers = [await pooled(world["admin"], f"Limit {i}") for i in range(3)]
    ids = [c["id"] for c in customers]
    await set_rules(world, maxOwned=2)
    try:
        assert (await rep(CLAIM, {"ids": ids[:1]}))["claimCustomers"]["errors"] == []
        over = (await rep(CLAIM, {"ids": ids[1:]}))["claimCustomers"]
        assert [(e["field"], e["code"]) for e in over["errors"]] == [("ids.1", "LIMIT_EXCEEDED")]
        pool_now = pool_ids(await rep(POOL, {"first": 100}))
        assert ids[1] in pool_now and ids[2] in pool_now  # nothing of the refused call was taken
        assert (await rep(CLAIM, {"ids": ids[1:2]}))["claimCustomers"]["errors"] == []
    finally:
        await set_rules(world, maxOwned=None)


async def test_rules_validation_and_permission(world) -> None:
    assert (await world["sales"](RULES))["poolRules"] == {
        "reclaimAfterDays": None,
        "maxOwned": None,
        "cooldownDays": 30,
    }
    for fields, field in (
        ({"reclaimAfterDays": 0}, "input.reclaimAfterDays"),
        ({"maxOwned": 0}, "input.maxOwned"),
        ({"cooldownDays": -1}, "input.cooldownDays"),
        ({"cooldownDays": None}, "input.cooldownDays"),
    ):
        result = (await world["admin"](SET_RULES, {"i": fields}))["setPoolRules"]
        assert result["errors"][0]["field"] == field, result
    response = await world["sales"].post(SET_RULES, {"i": {"maxOwned": 1000}})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    response = await world["manager"].post(RECLAIM)
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Partial updates keep the other fields.
    assert (await set_rules(world, cooldownDays=7))["cooldownDays"] == 7
    assert (await set_rules(world, maxOwned=500)) == {
        "reclaimAfterDays": None,
        "maxOwned": 500,
        "cooldownDays": 7,
    }
    await set_rules(world, maxOwned=None, cooldownDays=30)
    # Reclaim on demand while the rule is off: an error, nothing done.
    off = (await world["admin"](RECLAIM))["reclaimStaleCustomers"]
    assert off["reclaimedCount"] == 0 and off["errors"][0]["code"] == "INVALID"


async def test_stale_customers_are_reclaimed_and_the_cooldown_holds(db, world) -> None:
    sales, admin, t = world["sales"], world["admin"], world["t"]
    stale = await create_customer(sales, name="Stale 沉睡客户")
    talked = await create_customer(sales, name="Recently called")
    planned = await create_customer(sales, name="Follow-up planned")
    fresh = await create_customer(sales, name="Just created")
    now = datetime.now(UTC)
    for c in (stale, talked, planned):
        for doc, key, value in (
            (
                CREATE_INTERACTION,
                "createInteraction",
                {"occurredAt": now.isoformat(), "channel": "PHONE"},
            ),
            (CREATE_FOLLOW_UP, "createFollowUp", {"scheduledAt": now.isoformat()}),
        ):
            assert (await sales(doc, {"c": c["id"], "i": value}))[key]["errors"] == []
    long_ago = now - timedelta(days=45)
    pk = {c["name"]: from_global_id(c["id"])[1] for c in (stale, talked, planned, fresh)}
    async with db.tenant(t.ref).transaction() as session:
        # Created long ago, and every activity long ago, except one recent call and one
        # follow-up scheduled next week.
        await session.execute(
            update(Customer)
            .where(
                Customer.id.in_(
                    [pk["Stale 沉睡客户"], pk["Recently called"], pk["Follow-up planned"]]
                )
            )
            .values(created_at=long_ago)
        )
        await session.execute(update(Interaction).values(occurred_at=long_ago))
        await session.execute(update(FollowUp).values(scheduled_at=long_ago))
        await session.execute(
            update(Interaction)
            .where(Interaction.customer_id == pk["Recently called"])
            .values(occurred_at=now - timedelta(days=3))
        )
        await session.execute(
            update(FollowUp)
            .where(FollowUp.customer_id == pk["Follow-up planned"])
            .values(scheduled_at=now + timedelta(days=7))
        )
    await set_rules(world, reclaimAfterDays=30, cooldownDays=10)
    try:
        result = (await admin(RECLAIM))["reclaimStaleCustomers"]
        assert result["errors"] == [] and result["more"] is False
        assert result["reclaimedCount"] >= 1
        back = (await admin(GET, {"id": stale["id"]}))["customer"]
        assert back["owner"] is None and back["poolReason"] == "RECLAIMED"
        assert back["previousOwner"] == {"name": "李娜"}
        for kept in (talked, planned, fresh):
            assert (await admin(GET, {"id": kept["id"]}))["customer"]["owner"] == {"name": "李娜"}
        # Idempotent: running again at the same time finds nothing more.
        async with db.tenant(t.ref).transaction() as session:
            again = await pool.reclaim_stale(session, t.ref, datetime.now(UTC))
        assert again.reclaimed == [] and again.more is False

        # The rep it was taken from may not claim it back within the cooldown; another may.
        refused = (await sales(CLAIM, {"ids": [stale["id"]]}))["claimCustomers"]
        assert (refused["errors"][0]["field"], refused["errors"][0]["code"]) == (
            "ids.0",
            "FORBIDDEN",
        )
        async with db.tenant(t.ref).transaction() as session:
            await session.execute(
                update(Customer)
                .where(Customer.id == pk["Stale 沉睡客户"])
                .values(pool_entered_at=now - timedelta(days=11))
            )
        assert (await sales(CLAIM, {"ids": [stale["id"]]}))["claimCustomers"]["errors"] == []
        # Claiming restarts the clock: the next run leaves it alone.
        async with db.tenant(t.ref).transaction() as session:
            later = await pool.reclaim_stale(session, t.ref, datetime.now(UTC))
        assert pk["Stale 沉睡客户"] not in later.reclaimed

        async with db.tenant(t.ref).read() as session:
            rows = await session.execute(
                select(AuditEntry.action, AuditEntry.actor_id)
                .where(AuditEntry.entity_id == pk["Stale 沉睡客户"])
                .order_by(AuditEntry.at, AuditEntry.id)
            )
            assert [(a, u) for a, u in rows.all()][-2:] == [
                ("reclaim", t.admin.user_id),
                ("claim", t.sales.user_id),
            ]
    finally:
        await set_rules(world, reclaimAfterDays=None, cooldownDays=30)


async def test_reclaim_is_chunked(db, gql_as) -> None:
    t = await make_tenant(db, "pl-chunks")
    sales = await gql_as(t.sales_email)
    made = [await create_customer(sales, name=f"Dormant {i}") for i in range(3)]
    pks = [from_global_id(c["id"])[1] for c in made]
    async with db.tenant(t.ref).transaction() as session:
        await session.execute(
            update(Customer)
            .where(Customer.id.in_(pks))
            .values(created_at=datetime.now(UTC) - timedelta(days=100))
        )
    admin = await gql_as(t.admin_email)
    assert (await admin(SET_RULES, {"i": {"reclaimAfterDays": 60}}))["setPoolRules"]["errors"] == []
    taken = []
    for expected_more in (True, True, True, False):
        async with db.tenant(t.ref).transaction() as session:
            result = await pool.reclaim_stale(session, t.ref, datetime.now(UTC), batch=1)
        taken += result.reclaimed
        assert result.more is expected_more
        assert len(result.reclaimed) == (1 if expected_more else 0)
    assert sorted(taken) == sorted(pks)


async def test_other_tenants_pool_is_separate(world) -> None:
    mine = await pooled(world["admin"], "隔离 Isolated pool customer")
    theirs = await create_customer(world["b"], name="隔离 Bravo pool customer", ownerId=None)
    for gql in (world["b"], world["b_sales"]):
        listed = pool_ids(await gql(POOL, {"first": 100, "search": "隔离"}))
        assert mine["id"] not in listed and theirs["id"] in listed
        result = (await gql(CLAIM, {"ids": [mine["id"]]}))["claimCustomers"]
        assert (result["errors"][0]["field"], result["errors"][0]["code"]) == ("ids.0", "NOT_FOUND")
        released = (await gql(RELEASE, {"ids": [mine["id"]]}))["releaseCustomers"]
        assert released["errors"][0]["code"] == "NOT_FOUND"
    assert theirs["id"] not in pool_ids(
        await world["sales"](POOL, {"first": 100, "search": "隔离"})
    )
    assert mine["id"] in pool_ids(await world["sales"](POOL, {"first": 100, "search": "隔离"}))
    # tenant_b's rules are its own.
    await set_rules(world, maxOwned=3)
    try:
        assert (await world["b"](RULES))["poolRules"]["maxOwned"] is None
    finally:
        await set_rules(world, maxOwned=None)


async def test_pool_page_costs_constant_statements(db, gql_as, count_statements) -> None:
    t = await make_tenant(db, "pl-pager")
    admin = await gql_as(t.admin_email)
    sales = await gql_as(t.sales_email)
    for i in range(30):
        c = await create_customer(sales, name=f"Pooled {i:02d}")
        assert (await sales(RELEASE, {"ids": [c["id"]]}))["releaseCustomers"]["errors"] == []
    query = "{ customerPool(first: %d) { edges { node { id poolReason previousOwner { name } owner { name } } } } }"
    await admin(query % 30)
    counts = []
    for first in (5, 30):
        counter = count_statements()
        edges = (await admin(query % first))["customerPool"]["edges"]
        assert len(edges) == first and all(e["node"]["previousOwner"] for e in edges)
        counts.append(counter.count)
    assert counts[0] == counts[1] and counts[0] <= 5, counts
    # Keyset paging over the pool (latest entered first).
    first_page = (await admin(POOL, {"first": 10}))["customerPool"]
    second = await admin(POOL, {"first": 10, "after": first_page["pageInfo"]["endCursor"]})
    ids = pool_ids({"customerPool": first_page}) + pool_ids(second)
    assert len(set(ids)) == 20
