"""The issue's figures on a tenant of N customers (bulk-loaded, see bulk_load.py): for each of four
requests, requests/s with p50/p99 latency at concurrency 16 against a real gateway process
(uvicorn) over HTTP on loopback, and SQL statements per request (counted in process).

(a) the 50-customer page with contacts, owner and opportunities;
(b) a customer's 360 timeline page, varying customers;
(c) global search with a mix of Chinese names, pinyin, phone numbers, e-mails and typos — and
    the search statement on its own (server-side, no HTTP/GraphQL), sequentially;
(d) opportunities grouped by stage and month of expected close (complaints by severity and
    month of receipt while ``opportunitiesGroupBy`` does not exist).

    .venv/bin/python bench/domain_load.py [--customers 100000] [--seconds 15] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from _common import loaded, percentile, scratch_database
from bulk_load import bulk_load
from sqlalchemy import select

from crm_core.customers.models import Customer
from crm_core.db.engine import StatementCounter
from crm_core.demo.generate import generate_customers
from crm_core.search import engine
from crm_core.search.sources import SOURCES
from crm_core.tenancy import TenantRef
from crm_core.tenants import repository as tenants_repo

PASSWORD = "bench-password-2026"
PORT = 18_766
PAGE = (
    "{ customers(first: 50) { totalCount edges { cursor node { id code name kind phone email city "
    "grade lifecycleStage owner { name } contacts { name title phones { number } emails { address } } "
    "opportunities(first: 5) { name stage expectedAmount expectedCloseOn outcome } } } } }"
)
TIMELINE = (
    "query($id: ID!) { customer(id: $id) { name timeline(first: 20) { totalCount "
    "edges { cursor node { kind occurredAt detail node { id } } } } } }"
)
SEARCH = "query($q: String!) { search(query: $q, first: 10) { kind score node { id } } }"
GROUP_OPPS = (
    "{ opportunitiesGroupBy(by: [{field: STAGE}, {field: EXPECTED_CLOSE_ON, bucket: MONTH}], "
    "first: 100) { truncated groups { keys { field value } count } } }"
)
GROUP_COMPLAINTS = (
    "{ complaintsGroupBy(by: [{field: SEVERITY}, {field: RECEIVED_AT, bucket: MONTH}], "
    "first: 100) { truncated groups { keys { field value } count } } }"
)


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def search_terms(customers: int, count: int = 200) -> list[str]:
    """Queries drawn from the loaded customers: Chinese names, pinyin, phone digits (any
    spelling), e-mails, and the same with a typo."""
    from pypinyin import lazy_pinyin

    rng = random.Random(7)
    out: list[str] = []
    picks = sorted(rng.sample(range(customers), min(customers, count)))
    for i, index in enumerate(picks):
        item = next(generate_customers(1, start=index))
        c = item.customer
        kind = i % 6
        name = c["name"].strip()
        if kind == 0:
            out.append(name[:6] if not item.english else name.split()[0])
        elif kind == 1:
            out.append(" ".join(lazy_pinyin(name[:4])) if not item.english else name.lower())
        elif kind == 2 and c["phone"]:
            digits = "".join(ch for ch in c["phone"] if ch.isdigit())
            out.append(digits[-8:] if len(digits) >= 8 else digits or name)
        elif kind == 3 and c["email"]:
            out.append(c["email"].strip())
        elif kind == 4:
            out.append(
                _typo("".join(lazy_pinyin(name[:3])), rng) if not item.english else _typo(name, rng)
            )
        else:
            person = item.contacts[0]["name"] if item.contacts else name
            out.append(person)
    return [q for q in out if q.strip()]


async def login(client: httpx.AsyncClient) -> str:
    mutation = "mutation($i: LoginInput!) { login(input: $i) { session { accessToken } } }"
    variables = {"i": {"email": "owner@demo-company.cn", "password": PASSWORD, "tenant": "bench"}}
    response = await client.post("/graphql", json={"query": mutation, "variables": variables})
    return response.json()["data"]["login"]["session"]["accessToken"]  # type: ignore[no-any-return]


Body = Callable[[int], dict[str, Any]]


async def statements(settings: Any, db: Any, bodies: dict[str, Body]) -> dict[str, float]:
    from crm_api.app import create_app
    from crm_core.messaging.outbox import NullDispatcher

    app = create_app(settings, database=db, dispatcher=NullDispatcher())
    out = {}
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
        headers = {"authorization": f"Bearer {await login(client)}"}
        for name, body in bodies.items():
            await client.post("/graphql", json=body(0), headers=headers)  # warm caches
            total = 0
            for i in range(1, 6):
                counter = StatementCounter.attach(db.engine)
                response = await client.post("/graphql", json=body(i), headers=headers)
                counter.detach(db.engine)
                assert "errors" not in response.json(), (name, response.json())
                total += counter.count
            out[name] = total / 5
    return out


async def load(
    base: str, body: Body, seconds: float, concurrency: int
) -> tuple[int, list[float], int]:
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as client:
        headers = {"authorization": f"Bearer {await login(client)}"}
        latencies: list[float] = []
        errors = 0
        counter = itertools.count()
        await client.post("/graphql", json=body(0), headers=headers)
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post("/graphql", json=body(next(counter)), headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or "errors" in response.json():
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(latencies), latencies, errors


async def search_statement(db: Any, terms: list[str], rounds: int = 3) -> list[float]:
    """The search statement alone, as the API runs it for the owner (all kinds, all records)."""
    async with db.core_session() as session:
        tenant = await tenants_repo.get_by_slug(session, "bench")
    tdb = db.tenant(TenantRef(id=tenant.id, slug=tenant.slug))
    sources = list(SOURCES.values())
    timings = []
    async with tdb.read() as session:
        for _ in range(rounds):
            for q in terms:
                started = time.perf_counter()
                await engine.search(session, sources, q, scope=None, personal_data=True)
                timings.append(time.perf_counter() - started)
                await session.rollback()
    return timings


async def main(customers: int, seconds: float, concurrency: int, workers: int) -> None:
    # Everything the run imports is imported now, before the long load: the gateway code is
    # then read once, as it is at the start.
    has_opp_groups = await _has_field("opportunitiesGroupBy")
    async with scratch_database() as (settings, db):
        t0 = time.perf_counter()
        if not await loaded(db, "bench"):
            counts = await bulk_load(
                db, settings, slug="bench", customers_count=customers, password=PASSWORD
            )
            print(f"bulk load of {customers} customers: {time.perf_counter() - t0:.1f} s, "
                  f"{sum(counts.values())} rows ({', '.join(f'{k} {v}' for k, v in counts.items())})")  # fmt: skip
        from crm_api.relay import to_global_id

        async with db.core_session() as session:
            tenant = await tenants_repo.get_by_slug(session, "bench")
        tdb = db.tenant(TenantRef(id=tenant.id, slug=tenant.slug))
        async with tdb.read() as session:
            ids = list((await session.execute(select(Customer.id).limit(2000))).scalars())
        rng = random.Random(3)
        rng.shuffle(ids)
        gids = [to_global_id("Customer", i) for i in ids]
        terms = search_terms(customers)
        group = GROUP_OPPS if has_opp_groups else GROUP_COMPLAINTS
        bodies: dict[str, Body] = {
            "(a) 50 customers + contacts, owner, opportunities": lambda i: {"query": PAGE},
            "(b) customer 360 timeline, first 20": lambda i: {
                "query": TIMELINE, "variables": {"id": gids[i % len(gids)]}},
            "(c) global search": lambda i: {"query": SEARCH, "variables": {"q": terms[i % len(terms)]}},
            ("(d) opportunitiesGroupBy stage × month" if has_opp_groups
             else "(d) complaintsGroupBy severity × month (opportunitiesGroupBy not there yet)"):
                lambda i: {"query": group},
        }  # fmt: skip
        per_request = await statements(settings, db, bodies)
        timings = await search_statement(db, terms)
        env = dict(
            os.environ,
            CRM_DATABASE_URL=settings.require_database_url(),
            CRM_REDIS_URL=settings.require_redis_url(),
            CRM_DATA_DIR=str(settings.data_dir.resolve()),
            CRM_GATEWAY_PORT=str(PORT),
            CRM_LOG_LEVEL="WARNING",
            CRM_DB__POOL_SIZE="10",
        )
        gateway = subprocess.Popen(
            [sys.executable, "-m", "crm_core", "gateway", "--workers", str(workers)], env=env
        )
        try:
            base = f"http://127.0.0.1:{PORT}"
            for _ in range(150):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
            print(f"concurrency {concurrency}, {seconds:.0f} s each, {workers} gateway process(es), "
                  f"{os.cpu_count()} cores shared with PostgreSQL and the load generator")  # fmt: skip
            for name, body in bodies.items():
                count, latencies, errors = await load(base, body, seconds, concurrency)
                print(
                    f"{name}: {count / seconds:.1f} req/s, p50 {percentile(latencies, 50) * 1000:.1f} ms, "
                    f"p99 {percentile(latencies, 99) * 1000:.1f} ms, "
                    f"{per_request[name]:.1f} SQL statements/request, {errors} errors"
                )
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
        print(
            f"search statement alone ({len(timings)} runs, {len(terms)} queries, sequential): "
            f"p50 {percentile(timings, 50) * 1000:.1f} ms, p99 {percentile(timings, 99) * 1000:.1f} ms, "
            f"max {max(timings) * 1000:.1f} ms"
        )


async def _has_field(name: str) -> bool:
    import crm_api.app
    import crm_api.relay
    from crm_api.sdl import sdl

    assert crm_api.app  # loaded up front, see main
    assert crm_api.relay

    return f"  {name}(" in sdl()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--gateway-workers", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.seconds, args.concurrency, args.gateway_workers))
