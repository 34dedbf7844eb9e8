"""``crm up``: the whole product on one machine, for a developer or a trial.

With no ``CRM_DATABASE_URL`` / ``CRM_REDIS_URL``, embedded PostgreSQL and Valkey start under the
data folder (and keep their data there, so a second start reuses it). Then: migrate, seed the demo
tenant once, start gateway, worker and scheduler as child processes, print how to reach them.
Ctrl-C stops the children, then the embedded servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time

import typer
from pydantic import SecretStr

from crm_core.db import migrate
from crm_core.db.engine import Database
from crm_core.settings import Settings, load_settings
from crm_core.tenants import repository as tenants_repo

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the trial; demo data only


def up(
    demo: bool = typer.Option(True, help="Create the demo tenant (once) with realistic data"),
    demo_customers: int = typer.Option(1000, min=1, max=200_000),
    workers: int = typer.Option(1, min=1, max=16, help="Worker processes"),
) -> None:
    from crm_core.runtime.embedded_postgres import EmbeddedPostgres
    from crm_core.runtime.embedded_redis import EmbeddedRedis
    from crm_core.runtime.supervisor import Supervisor, wait_for_http

    started = time.perf_counter()
    settings = load_settings()
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CRM_DATA_DIR=str(data_dir))
    pg = redis = None
    if settings.database_url is None:
        pg = EmbeddedPostgres(data_dir)
        pg.start()
        env["CRM_DATABASE_URL"] = pg.url
        typer.echo(f"embedded PostgreSQL: {data_dir / 'postgres'}")
    if settings.redis_url is None:
        redis = EmbeddedRedis(data_dir)
        redis.start()
        env["CRM_REDIS_URL"] = redis.url
        typer.echo(f"embedded Redis (Valkey, append-only): {redis.url}")
    try:
        resolved = settings.model_copy(
            update={
                "database_url": SecretStr(env["CRM_DATABASE_URL"]),
                "redis_url": SecretStr(env["CRM_REDIS_URL"]),
            }
        )
        seeded = asyncio.run(_prepare(resolved, demo=demo, customers=demo_customers))
        python = sys.executable
        sup = Supervisor(grace_period=15)
        sup.add("gateway", [python, "-m", "crm_core", "gateway"], env=env)
        for i in range(workers):
            name = f"worker{i + 1}" if workers > 1 else "worker"
            sup.add(name, [python, "-m", "crm_core", "worker"], env=env)
        sup.add("scheduler", [python, "-m", "crm_core", "scheduler"], env=env)
        if _dev_mail_sink(resolved):
            # Development: mail goes to a local sink that prints a line per mail (crm_core.mail).
            sink = [python, "-m", "crm_core.mail.sink", "--host", resolved.mail.host]
            sup.add("mail-sink", [*sink, "--port", str(resolved.mail.port)], env=env)
            typer.echo(f"SMTP sink (development): {resolved.mail.host}:{resolved.mail.port}")
        base = f"http://{resolved.gateway_host}:{resolved.gateway_port}"

        def announce() -> None:
            try:
                wait_for_http(f"{base}/healthz", timeout=60)
            except TimeoutError:
                typer.secho(
                    "the gateway did not answer in 60 s; see its output", fg="red", err=True
                )
                return
            _banner(base, seeded, time.perf_counter() - started)

        threading.Thread(target=announce, name="crm-up-banner", daemon=True).start()
        code = sup.run()
    finally:
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()
    raise typer.Exit(code)


def _dev_mail_sink(settings: Settings) -> bool:
    """A sink only in development, when mail points at this machine and aiosmtpd is installed."""
    import importlib.util

    local = settings.mail.host in ("127.0.0.1", "localhost", "::1")
    wanted = settings.environment.value == "development" and settings.mail.dev_sink and local
    return wanted and importlib.util.find_spec("aiosmtpd") is not None


async def _prepare(settings: Settings, *, demo: bool, customers: int) -> str | None:
    db = Database.create(settings)
    try:
        await migrate.upgrade_core(db.engine)
        async with db.core_session() as session:
            ids = await tenants_repo.provisioned_ids(session)
        failed = [o for o in await migrate.upgrade_tenants(db.engine, ids) if o.status == "failed"]
        for o in failed:
            typer.secho(f"tenant {o.tenant_id} failed to migrate: {o.error}", fg="red", err=True)
        if not demo:
            return None
        from crm_core.demo.seed import seed_demo

        result = await seed_demo(
            db, settings, slug="demo", customers=customers, password=DEMO_PASSWORD
        )
        typer.echo(str(result))
        return result.login_email
    finally:
        await db.dispose()


def _banner(base: str, login: str | None, seconds: float) -> None:
    typer.secho(f"\nCRM is up in {seconds:.1f}s", fg="green", bold=True)
    typer.echo(f"  GraphQL (GraphiQL in a browser): {base}/graphql")
    typer.echo(f"  health: {base}/healthz    JWKS: {base}/.well-known/jwks.json")
    if login:
        login_query = {
            "query": "mutation($i: LoginInput!) { login(input: $i) { session { accessToken } errors { message } } }",
            "variables": {"i": {"email": login, "password": DEMO_PASSWORD, "tenant": "demo"}},
        }
        page_query = {
            "query": "{ customers(first: 5) { totalCount edges { node { code name phone city "
            "owner { name } contacts { name title phones { number } } } } } }"
        }
        typer.echo(f"  demo login: {login} / {DEMO_PASSWORD} (tenant: demo)\n")
        typer.echo("Try it:")
        typer.echo(
            f"  TOKEN=$(curl -s {base}/graphql -H 'content-type: application/json' "
            f"-d '{json.dumps(login_query, ensure_ascii=False)}' "
            '| python3 -c \'import json,sys; print(json.load(sys.stdin)["data"]["login"]["session"]["accessToken"])\')'
        )
        typer.echo(
            f"  curl -s {base}/graphql -H \"authorization: Bearer $TOKEN\" -H 'content-type: application/json' "
            f"-d '{json.dumps(page_query)}'"
        )
    typer.echo("\nCtrl-C stops everything.")
