"""Signing keys in the database: created once, rotated with the old key verify-only until its
tokens have expired, then dropped from verification and from the JWKS.

These tests rotate keys, so they run on a database of their own: the shared one keeps signing
with its key, undisturbed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jws
from pydantic import SecretStr
from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.db import migrate
from crm_core.db.engine import Database, StatementCounter
from crm_core.errors import Unauthenticated
from crm_core.identity import keys
from crm_core.identity.keys import KeyStore
from crm_core.identity.models import SigningKey
from crm_core.identity.tokens import TokenService
from crm_core.messaging.outbox import NullDispatcher
from crm_core.security.crypto import load_master_key
from crm_core.settings import Settings


@pytest.fixture(scope="module")
async def own(settings: Settings) -> AsyncIterator[tuple[Database, Settings]]:
    """A fresh database (core tables only) and settings pointing at it."""
    name = f"crm_keys_{secrets.token_hex(4)}"
    url = make_url(settings.require_database_url())
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    mine = settings.model_copy(
        update={
            "database_url": SecretStr(url.set(database=name).render_as_string(hide_password=False)),
            "auth": settings.auth.model_copy(update={"key_cache_seconds": 1}),
        }
    )
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database.create(mine)
    try:
        await migrate.upgrade_core(db.engine)
        yield db, mine
    finally:
        await db.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def _kid(token: str) -> str:
    return str(jws.extract_compact(token.encode()).headers()["kid"])


async def _issue(service: TokenService) -> str:
    issued = await service.issue(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), role="sales")
    return issued.token


async def _jwks_kids(app: Any) -> set[str]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/.well-known/jwks.json")
    body = response.json()
    assert all("d" not in k and k["alg"] == "Ed25519" and k["use"] == "sig" for k in body["keys"])
    return {k["kid"] for k in body["keys"]}


async def test_first_start_of_many_processes_creates_one_key(own) -> None:
    db, mine = own
    master = load_master_key(mine)
    stores = [KeyStore(db, master, mine.auth) for _ in range(4)]
    await asyncio.gather(*(s.refresh() for s in stores))
    rows = await keys.list_keys(db)
    assert len(rows) == 1
    signing = {(await s.signing_key()).kid for s in stores}
    assert signing == {rows[0].kid}
    # The private part is stored encrypted, bound to its key id.
    assert b"PRIVATE KEY" not in rows[0].private_key_encrypted
    assert "d" not in rows[0].public_jwk


async def test_rotation_keeps_old_tokens_valid_until_verify_until(own) -> None:
    from crm_api.app import create_app

    db, mine = own
    master = load_master_key(mine)
    store = KeyStore(db, master, mine.auth)
    service = TokenService(mine.auth, store)
    old_token = await _issue(service)
    old_kid = _kid(old_token)
    app = create_app(mine, database=db, dispatcher=NullDispatcher())
    async with app.router.lifespan_context(app):
        assert await _jwks_kids(app) == {old_kid}

        done = await keys.rotate(db, master, mine.auth)
        assert done.retired == [old_kid]
        window = done.verify_until - datetime.now(UTC)
        expected = mine.auth.access_token_ttl_seconds + mine.auth.leeway_seconds + 1
        assert timedelta(seconds=expected - 5) < window <= timedelta(seconds=expected)

        await store.refresh()
        new_token = await _issue(service)
        assert _kid(new_token) == done.new_kid
        for token in (old_token, new_token):
            assert (await service.verify(token)).role.value == "sales"
        await asyncio.sleep(1.05)  # the gateway re-reads its keys (every second here)
        assert await _jwks_kids(app) == {old_kid, done.new_kid}

        # Time passes beyond the old key's window.
        async with db.core_transaction() as session:
            await session.execute(
                update(SigningKey)
                .where(SigningKey.kid == old_kid)
                .values(verify_until=datetime.now(UTC) - timedelta(seconds=1))
            )
        await store.refresh()
        with pytest.raises(Unauthenticated):
            await service.verify(old_token)
        assert (await service.verify(new_token)).expires_at > 0
        await asyncio.sleep(1.05)
        assert await _jwks_kids(app) == {done.new_kid}
    # The next rotation deletes the expired key, private part and all.
    later = await keys.rotate(db, master, mine.auth)
    assert later.pruned == 1
    assert old_kid not in {k.kid for k in await keys.list_keys(db)}


async def test_a_process_learns_of_a_new_key_when_it_meets_its_kid(own) -> None:
    db, mine = own
    master = load_master_key(mine)
    patient = mine.auth.model_copy(update={"key_cache_seconds": 3_600})
    here = TokenService(patient, KeyStore(db, master, patient))
    there = TokenService(patient, KeyStore(db, master, patient))
    await _issue(here)
    await _issue(there)  # both have read the keys and would keep them an hour
    await keys.rotate(db, master, mine.auth)
    await there.keys.refresh()  # the process that rotated, say
    token = await _issue(there)
    assert (await here.verify(token)).role.value == "sales"  # unknown kid: re-read at once


async def test_revoking_the_old_key_refuses_its_tokens_at_once(own) -> None:
    db, mine = own
    master = load_master_key(mine)
    service = TokenService(mine.auth, KeyStore(db, master, mine.auth))
    old = await _issue(service)
    done = await keys.rotate(db, master, mine.auth, revoke_old=True)
    await service.keys.refresh()
    with pytest.raises(Unauthenticated):
        await service.verify(old)
    assert {k["kid"] for k in (await service.jwks())["keys"]} == {done.new_kid}


async def test_crm_keys_rotate_command(own) -> None:
    db, mine = own
    before = {k.kid for k in await keys.list_keys(db) if k.retired_at is None}
    env = dict(
        os.environ,
        CRM_DATABASE_URL=mine.require_database_url(),
        CRM_REDIS_URL=mine.require_redis_url(),
        CRM_DATA_DIR=str(mine.data_dir),
    )
    result = subprocess.run(
        [sys.executable, "-m", "crm_core", "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    after = {k.kid for k in await keys.list_keys(db) if k.retired_at is None}
    assert len(after) == 1 and after != before
    assert f"signing with {next(iter(after))}" in result.stdout


async def test_made_up_key_ids_do_not_flood_the_database(own) -> None:
    db, mine = own
    patient = mine.auth.model_copy(update={"key_cache_seconds": 3_600})
    service = TokenService(patient, KeyStore(db, load_master_key(mine), patient))
    genuine = await _issue(service)
    _, payload, signature = genuine.split(".")
    counter = StatementCounter.attach(db.engine)
    try:
        for _ in range(50):
            forged = {"alg": "Ed25519", "typ": "at+jwt", "kid": secrets.token_urlsafe(16)}
            made_up = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
            with pytest.raises(Unauthenticated):
                await service.verify(f"{made_up}.{payload}.{signature}")
    finally:
        counter.detach(db.engine)
    assert counter.count <= 1  # one re-read for the first unknown kid, then none for a second
