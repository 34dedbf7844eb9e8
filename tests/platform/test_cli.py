"""The `crm` command, run as a user runs it: a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text

from crm_core.tenancy import schema_for
from crm_core.tenants import repository


def crm(settings, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        CRM_DATABASE_URL=settings.require_database_url(),
        CRM_REDIS_URL=settings.require_redis_url(),
        CRM_DATA_DIR=str(settings.data_dir),
    )
    return subprocess.run(
        [sys.executable, "-m", "crm_core", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=input_text,
        check=False,
    )


async def test_tenant_lifecycle_through_the_cli(settings, db) -> None:
    created = crm(settings, "tenant", "create", "cli-co", "--name", "CLI 公司")
    assert created.returncode == 0, created.stderr
    assert "created: cli-co" in created.stdout
    again = crm(settings, "tenant", "create", "cli-co", "--name", "CLI 公司")
    assert "exists: cli-co" in again.stdout
    assert "cli-co" in crm(settings, "tenant", "list").stdout
    assert crm(settings, "tenant", "suspend", "cli-co").stdout.strip() == "cli-co: suspended"
    user = crm(
        settings, "user", "create", "boss@cli-co.cn", "--name", "Boss", "--tenant", "cli-co", "--role", "admin",
        "--password", "a long enough password",
    )  # fmt: skip
    assert user.returncode == 0, user.stderr
    refused = crm(settings, "tenant", "purge", "cli-co", "--confirm", "cli-co")
    assert refused.returncode == 2
    assert "delete the tenant before purging" in refused.stderr
    crm(settings, "tenant", "delete", "cli-co")
    assert "cli-co" not in crm(settings, "tenant", "list").stdout
    assert "cli-co" in crm(settings, "tenant", "list", "--all").stdout
    assert crm(settings, "tenant", "purge", "cli-co", "--confirm", "cli-co").returncode == 0
    async with db.core_session() as session:
        assert await repository.get_by_slug(session, "cli-co") is None


async def test_bad_input_is_named(settings) -> None:
    result = crm(settings, "tenant", "create", "Bad Slug!", "--name", "X")
    assert result.returncode == 2
    assert "slug" in result.stderr
    short = crm(settings, "user", "create", "x@y.cn", "--name", "X", "--password", "short")
    assert short.returncode == 2
    assert "password" in short.stderr


async def test_db_upgrade_reports_failed_tenant_and_exits_non_zero(settings, db) -> None:
    assert crm(settings, "tenant", "create", "will-break", "--name", "Breaks").returncode == 0
    async with db.core_session() as session:
        tenant = await repository.get_by_slug(session, "will-break")
    async with db.engine.begin() as conn:
        await conn.execute(
            text(f"UPDATE \"{schema_for(tenant.id)}\".alembic_version SET version_num = 'bogus'")
        )
    result = crm(settings, "db", "upgrade")
    assert result.returncode == 1
    assert str(tenant.id) in result.stderr
    assert "1 failed" in result.stdout
    async with db.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema_for(tenant.id)}" CASCADE'))
    result = crm(settings, "db", "upgrade")
    assert result.returncode == 0, result.stderr
