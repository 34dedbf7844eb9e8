"""Global search, the statement alone (no HTTP, no GraphQL): p50/p99 over a mix of Chinese names,
pinyin, phone numbers, e-mails and typos, on a bulk-loaded tenant, with the candidate bound the
engine uses and, for comparison, without it (every match ranked).

    .venv/bin/python bench/search.py [--customers 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import loaded, percentile, scratch_database
from bulk_load import bulk_load
from domain_load import search_statement, search_terms

from crm_core.search import engine


async def main(customers: int, rounds: int) -> None:
    async with scratch_database() as (settings, db):
        t0 = time.perf_counter()
        if not await loaded(db, "bench"):
            await bulk_load(
                db,
                settings,
                slug="bench",
                customers_count=customers,
                password="bench-password-2026",
            )
            print(f"bulk load of {customers} customers: {time.perf_counter() - t0:.1f} s")
        terms = search_terms(customers)
        for label, bound in (("bounded", engine.CANDIDATES), ("unbounded", 10**9)):
            engine.CANDIDATES = bound
            timings = await search_statement(db, terms, rounds=rounds)
            ms = [t * 1000 for t in timings]
            print(
                f"search statement, {label} candidates ({len(ms)} runs, {len(terms)} queries): "
                f"p50 {percentile(ms, 50):.1f} ms  p99 {percentile(ms, 99):.1f} ms  "
                f"max {max(ms):.1f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.rounds))
