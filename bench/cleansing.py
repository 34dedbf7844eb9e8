"""Whole-tenant cleansing: records/s of the scheduled pass (``cleanse_all``) over dirty customers.

    .venv/bin/python bench/cleansing.py                       # 20,000 customers
    .venv/bin/python bench/cleansing.py --customers 100000

The customers are generated here (lighter than ``bulk_load.py``, which takes ~8 min for 100,000
with all related records): company and person names with full-width characters and stray
spaces, phones typed every which way (some impossible), e-mails in capitals with spaces (some
broken), addresses as one unsplit line, a few with no way of contact at all — written with COPY
around the service, as an old import would leave them. Then the job's pass runs once over all of
them (``full``: every record checked, as after a change of the rules), a second full pass over the
now clean records, and an incremental one (what the daily schedule does when the per-write
cleansing kept up: nothing to do). Printed: records/s, how many were changed and flagged.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database

from crm_core.cleansing import tasks
from crm_core.db import migrate
from crm_core.tenancy import TenantRef, schema_for

COLUMNS = (
    "id", "code", "name", "kind", "phone", "email", "address_line", "industry", "notes",
    "tags", "lifecycle_stage", "preferred_products", "important_dates", "do_not_visit",
    "review_flags", "search_text", "search_public", "version",
)  # fmt: skip

# The NOT NULL columns after them: tags, stage, products, dates, do-not-visit, flags, search, version.
DEFAULTS = ([], "new", [], "[]", "[]", "[]", "", "", 1)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
CITIES = (
    ("上海市", "浦东新区", "张江路"),
    ("北京市", "海淀区", "中关村大街"),
    ("广东省深圳市", "南山区", "科技园路"),
    ("浙江省杭州市", "西湖区", "文三路"),
    ("四川省成都市", "武侯区", "天府大道"),
)
TRADES = ("贸易", "科技", "物流", "食品", "建材", "咨询")
FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ　",
)


def _phone(rng: random.Random) -> str | None:
    mobile = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    shapes = (
        lambda: mobile,
        lambda: f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        lambda: f" {mobile[:3]} {mobile[3:7]} {mobile[7:]} ",
        lambda: mobile.translate(FULL_WIDTH),  # typed with a Chinese input method
        lambda: f"021 {rng.randrange(10**8):08d}",
        lambda: f"{rng.randrange(10**4)}",  # impossible: flagged
        lambda: None,
    )
    return rng.choice(shapes)()


def _email(rng: random.Random, i: int) -> str | None:
    local = f"contact{i}"
    shapes = (
        lambda: f"{local}@example.cn",
        lambda: f" {local.upper()}@EXAMPLE.CN ",
        lambda: f"{local}＠example.cn",  # full-width at sign
        lambda: f"{local}@@example",  # broken: flagged
        lambda: None,
        lambda: None,
    )
    return rng.choice(shapes)()


def records(n: int, seed: int = 7) -> list[tuple[object, ...]]:
    rng = random.Random(seed)
    out: list[tuple[object, ...]] = []
    for i in range(n):
        province, district, street = rng.choice(CITIES)
        if rng.random() < 0.6:
            name = (
                f"{province[:2]}{rng.choice(GIVEN)}{rng.choice(GIVEN)}{rng.choice(TRADES)}有限公司"
            )
            kind = "company"
        else:
            name = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}"
            kind = "individual"
        if rng.random() < 0.3:
            name = f"  {name.translate(FULL_WIDTH)}　"
        address = (
            f"{province}{district}{street}{rng.randrange(1, 999)}号" if rng.random() < 0.7 else None
        )
        industry = rng.choice(TRADES) + ("  " if rng.random() < 0.2 else "")
        notes = "第一行\r\n\r\n\r\n第二行" if rng.random() < 0.1 else None
        dirty = (name, kind, _phone(rng), _email(rng, i), address, industry, notes)
        out.append((uuid.uuid4(), f"B-{i:07d}", *dirty, *DEFAULTS))
    return out


async def main(n: int) -> None:
    t0 = time.perf_counter()
    rows = records(n)
    t_gen = time.perf_counter() - t0
    async with scratch_database() as (settings, db):
        tenant = TenantRef(id=uuid.uuid4(), slug="bench-cleansing")
        await migrate.upgrade_tenant(db.engine, tenant.id)
        schema = schema_for(tenant.id)
        t0 = time.perf_counter()
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            await driver.copy_records_to_table(  # type: ignore[union-attr]
                "customers", schema_name=schema, records=rows, columns=COLUMNS
            )
            await driver.execute(f'ANALYZE "{schema}".customers')  # type: ignore[union-attr]
            await conn.commit()
        t_load = time.perf_counter() - t0
        tdb = db.tenant(tenant)
        region = settings.default_phone_region
        t0 = time.perf_counter()
        full = await tasks.cleanse_all(tdb, default_region=region, full=True)
        t_full = time.perf_counter() - t0
        t0 = time.perf_counter()
        clean = await tasks.cleanse_all(tdb, default_region=region, full=True)
        t_clean = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = await tasks.cleanse_all(tdb, default_region=region, full=False)
        t_again = time.perf_counter() - t0
    print(f"== whole-tenant cleansing, {n:,} dirty customers (chunks of {tasks.CHUNK_SIZE})")
    print(f"generate          {t_gen:8.1f} s")
    print(f"COPY load         {t_load:8.1f} s")
    print(
        f"full pass         {t_full:8.1f} s  {full['checked'] / t_full:,.0f} records/s  "
        f"changed {full['changed']:,}  flagged {full['flagged']:,}"
    )
    print(
        f"full pass, clean  {t_clean:8.1f} s  {clean['checked'] / t_clean:,.0f} records/s  "
        f"changed {clean['changed']:,}  flagged {clean['flagged']:,}"
    )
    print(
        f"incremental pass  {t_again:8.1f} s  checked {again['checked']:,} "
        "(nothing changed since: nothing to do)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().customers))
