"""A page of 50 customers with their contacts and owner: SQL statements per request, and
requests/s with p50/p99 latency at concurrency 16 against a real gateway process (uvicorn) over
HTTP on loopback.

    .venv/bin/python bench/page_load.py [--seconds 20] [--concurrency 16] [--customers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

import httpx
from _common import percentile, scratch_database

from crm_core.db.engine import StatementCounter
from crm_core.demo.seed import seed_demo

QUERY = (
    "{ customers(first: 50) { totalCount edges { cursor node { id code name kind phone email city "
    "province grade lifecycleStage owner { name } contacts { name title phones { number } emails { address } } } } } }"
)
PASSWORD = "bench-password-2026"
PORT = 18_765


async def statements_per_request(settings, db) -> int:
    from crm_api.app import create_app
    from crm_core.messaging.outbox import NullDispatcher

    app = create_app(settings, database=db, dispatcher=NullDispatcher())
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        token = await login(client)
        await client.post(
            "/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {token}"}
        )
        counter = StatementCounter.attach(db.engine)
        response = await client.post(
            "/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {token}"}
        )
        counter.detach(db.engine)
        assert len(response.json()["data"]["customers"]["edges"]) == 50
        return counter.count


async def login(client: httpx.AsyncClient) -> str:
    mutation = "mutation($i: LoginInput!) { login(input: $i) { session { accessToken } } }"
    variables = {"i": {"email": "owner@demo-company.cn", "password": PASSWORD, "tenant": "bench"}}
    response = await client.post("/graphql", json={"query": mutation, "variables": variables})
    return response.json()["data"]["login"]["session"]["accessToken"]  # type: ignore[no-any-return]


async def load(base: str, seconds: float, concurrency: int) -> tuple[int, list[float], int]:
    async with httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_connections=concurrency)
    ) as client:
        token = await login(client)
        headers = {"authorization": f"Bearer {token}"}
        latencies: list[float] = []
        errors = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or "errors" in response.json():
                    errors += 1

        await client.post("/graphql", json={"query": QUERY}, headers=headers)  # warm up
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(latencies), latencies, errors


async def main(seconds: float, concurrency: int, customers: int, gateway_workers: int) -> None:
    async with scratch_database() as (settings, db):
        t0 = time.perf_counter()
        await seed_demo(db, settings, slug="bench", customers=customers, password=PASSWORD)
        print(f"seeded {customers} customers with contacts in {time.perf_counter() - t0:.1f} s")
        print(
            f"SQL statements per request (50 customers + contacts + owner): {await statements_per_request(settings, db)}"
        )
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
            [sys.executable, "-m", "crm_core", "gateway", "--workers", str(gateway_workers)],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{PORT}"
            for _ in range(100):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
            count, latencies, errors = await load(base, seconds, concurrency)
            print(
                f"concurrency {concurrency}, {seconds:.0f} s: {count / seconds:.1f} requests/s, "
                f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms, "
                f"{errors} errors ({gateway_workers} gateway process(es), {os.cpu_count()} cores shared with the load generator)"
            )
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--gateway-workers", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.customers, args.gateway_workers))
