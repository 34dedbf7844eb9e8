"""Sign-in refusals read alike whether or not the account exists; guesses are throttled per
address and per IP, with delays that grow, are capped, and are forgotten."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from argon2 import extract_parameters
from crmtest import PASSWORD
from redis.asyncio import Redis
from sqlalchemy import select, update

from crm_core.identity import passwords, service
from crm_core.identity.throttle import Throttle, client_network
from crm_core.messaging.outbox import NullDispatcher
from crm_core.tenants.models import User

LOGIN = (
    "mutation($i: LoginInput!) { login(input: $i) { session { accessToken } "
    "errors { field code message } } }"
)
# The delay must outlast a few argon2 verifications on a loaded 2-core CI machine (0.4 s did not).
FAST = {
    "login_free_failures": 2,
    "login_delay_base_seconds": 2.0,
    "login_delay_max_seconds": 2.0,
    "login_failure_window_seconds": 5.0,
}


@pytest.fixture(scope="module")
async def fast_app(settings, db) -> AsyncIterator[Any]:
    """A gateway on the same database whose throttle reacts within a second."""
    from crm_api.app import create_app

    fast = settings.model_copy(update={"auth": settings.auth.model_copy(update=FAST)})
    application = create_app(fast, database=db, dispatcher=NullDispatcher())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def redis(settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.require_redis_url())
    yield client
    await client.aclose()


def _client(app: Any, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    variables = {"i": {"email": email, "password": password, "tenant": None}}
    body = (await client.post("/graphql", json={"query": LOGIN, "variables": variables})).json()
    return body["data"]["login"]  # type: ignore[no-any-return]


def _ip() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"


async def test_unknown_wrong_and_throttled_answers_are_the_same(fast_app, ident, db) -> None:
    existing = await ident.person("alpha")
    unknown = f"nobody-{secrets.token_hex(4)}@example.cn"
    inactive = await ident.person("alpha")
    async with db.core_transaction() as session:
        await session.execute(update(User).where(User.email == inactive).values(is_active=False))
    client = _client(fast_app, _ip())

    answers, verifications = [], []
    for email, password in (
        (existing, "wrong password!!"),
        (unknown, PASSWORD),
        (inactive, PASSWORD),
    ):
        before = passwords.verification_count()
        answers.append(await _login(client, email, password))
        verifications.append(passwords.verification_count() - before)
    # Same answer, and the same work behind it: one argon2 verification each, the unknown
    # address against a stand-in hash made with the same parameters as real ones.
    assert answers[0] == answers[1] == answers[2]
    assert answers[0] == {
        "session": None,
        "errors": [{"field": None, "code": "UNAUTHENTICATED", "message": service.DENIED}],
    }
    assert verifications == [1, 1, 1]
    async with db.core_session() as session:
        stmt = select(User.password_hash).where(User.email == existing)
        real = (await session.execute(stmt)).scalar_one()
    assert extract_parameters(passwords._dummy_hash()) == extract_parameters(real)

    # Second failure for each address: both are throttled now, and read the same.
    await _login(client, existing, "wrong password!!")
    await _login(client, unknown, PASSWORD)
    before = passwords.verification_count()
    throttled_existing = await _login(client, existing, PASSWORD)  # even the right password
    throttled_unknown = await _login(client, unknown, PASSWORD)
    assert (
        throttled_existing
        == throttled_unknown
        == {
            "session": None,
            "errors": [{"field": None, "code": "LIMIT_EXCEEDED", "message": service.THROTTLED}],
        }
    )
    assert passwords.verification_count() == before  # refused without being evaluated

    await asyncio.sleep(2.05)  # the delay is short and capped
    assert (await _login(client, existing, PASSWORD))["session"] is not None


async def test_success_clears_the_address_count(fast_app, ident) -> None:
    email = await ident.person("alpha")
    client = _client(fast_app, _ip())
    await _login(client, email, "wrong password!!")
    assert (await _login(client, email, PASSWORD))["session"] is not None
    # Counting started again: one more failure is free.
    await _login(client, email, "wrong password!!")
    assert (await _login(client, email, PASSWORD))["session"] is not None


async def test_delays_grow_are_capped_and_are_forgotten(settings, redis) -> None:
    config = settings.auth.model_copy(
        update={
            "login_free_failures": 2,
            "login_delay_base_seconds": 0.1,
            "login_delay_max_seconds": 0.4,
            "login_failure_window_seconds": 1.0,
        }
    )
    throttle = Throttle(redis, config, namespace=settings.worker.namespace)
    buckets = throttle.login_buckets(f"grow-{secrets.token_hex(4)}@example.cn", _ip())
    assert await throttle.failed(buckets) == 0  # the first failure is free
    assert await throttle.wait_seconds(buckets) == 0
    delays = [await throttle.failed(buckets) for _ in range(5)]
    assert delays == [0.1, 0.2, 0.4, 0.4, 0.4]  # doubling, then capped: never a lock-out
    assert 0.3 < await throttle.wait_seconds(buckets) <= 0.4
    await asyncio.sleep(0.45)
    assert await throttle.wait_seconds(buckets) == 0  # the delay has passed...
    assert await throttle.failed(buckets) == 0.4  # ...but the count is remembered
    await asyncio.sleep(1.05)
    assert await throttle.failed(buckets) == 0  # after a quiet window it is forgotten


async def test_an_ip_guessing_many_addresses_is_slowed_alone(settings, redis) -> None:
    config = settings.auth.model_copy(
        update={"login_ip_free_failures": 3, "login_delay_base_seconds": 0.5}
    )
    throttle = Throttle(redis, config, namespace=settings.worker.namespace)
    guesser, bystander = _ip(), _ip()
    for _ in range(3):
        fresh = f"target-{secrets.token_hex(4)}@example.cn"
        await throttle.failed(throttle.login_buckets(fresh, guesser))
    another = f"target-{secrets.token_hex(4)}@example.cn"
    assert await throttle.wait_seconds(throttle.login_buckets(another, guesser)) > 0
    assert await throttle.wait_seconds(throttle.login_buckets(another, bystander)) == 0


def test_ipv6_clients_are_counted_per_64() -> None:
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:bbbb::9")
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
    assert client_network("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_network(None) == client_network("garbage") == "unknown"


async def test_without_redis_sign_in_still_works_unthrottled(settings) -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    throttle = Throttle(down, settings.auth, namespace="unreachable")
    buckets = throttle.login_buckets("someone@example.cn", "10.0.0.1")
    assert await throttle.wait_seconds(buckets) == 0
    assert await throttle.failed(buckets) == 0
    await throttle.clear(buckets[0])
    await down.aclose()
