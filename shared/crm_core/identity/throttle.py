"""Progressive throttling of guesses, per e-mail address and per client IP, in Redis.

Keys are the e-mail *as typed* (normalised), not the account: an address with no account is
throttled exactly like one with an account, so the answer never tells whether an account exists.
Each failure counts; past a free allowance each further failure sets a delay that doubles, up to a
cap, during which attempts are refused without being evaluated (so they do not count either). The
count is forgotten after a quiet window. Nothing locks for longer than the cap: an attacker can slow
an account down, never lock its owner out for good (and a password reset clears the e-mail's count).

IPv6 clients are counted per /64, the block one host usually controls. When Redis cannot be
reached the throttle lets attempts through and logs it: argon2 still bounds the guessing rate, and
sign-in should not fail with the cache.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from crm_core.settings import AuthSettings

log = logging.getLogger(__name__)

# KEYS: count, block. ARGV: window ms, free failures, base delay ms, max delay ms.
# One round trip, atomic: count the failure; from the ``free``-th on, set a delay that doubles.
_FAIL = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local free = tonumber(ARGV[2])
if n < free then return 0 end
local delay = math.min(tonumber(ARGV[3]) * 2 ^ (n - free), tonumber(ARGV[4]))
delay = math.max(1, math.floor(delay))
redis.call('SET', KEYS[2], '1', 'PX', delay)
return delay
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One thing whose failures are counted: ``login:email:<digest>``, ``login:ip:<net>``…"""

    key: str
    free: int


def _digest(value: str) -> str:
    # E-mail addresses are personal data: keep them out of the Redis key space.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def client_network(ip: str | None) -> str:
    """The address to count a client under: IPv4 as is, IPv6 by its /64."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:1.2.3.4 is an IPv4 client
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class Throttle:
    def __init__(self, redis: Redis, settings: AuthSettings, *, namespace: str) -> None:
        self._redis = redis
        self._settings = settings
        self._prefix = f"{namespace}:throttle"
        self._fail = redis.register_script(_FAIL)

    def login_buckets(self, email: str, ip: str | None) -> tuple[Bucket, Bucket]:
        """(the e-mail's bucket, the IP's bucket) for sign-in and password checks."""
        s = self._settings
        return (
            Bucket(f"{self._prefix}:login:email:{_digest(email)}", s.login_free_failures),
            Bucket(f"{self._prefix}:login:ip:{client_network(ip)}", s.login_ip_free_failures),
        )

    def reset_buckets(self, email: str, ip: str | None) -> tuple[Bucket, Bucket]:
        """Reset-mail requests: every request counts, so nobody can bomb a mailbox."""
        s = self._settings
        return (
            Bucket(f"{self._prefix}:reset:email:{_digest(email)}", s.reset_requests_free),
            Bucket(f"{self._prefix}:reset:ip:{client_network(ip)}", s.login_ip_free_failures),
        )

    async def wait_seconds(self, buckets: Sequence[Bucket]) -> float:
        """0 when an attempt may be evaluated now; else how long until it may."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for b in buckets:
                    pipe.pttl(f"{b.key}:block")
                remaining = await pipe.execute()
        except RedisError:
            log.error("throttle: Redis unavailable; attempt allowed", exc_info=True)
            return 0.0
        return max([0, *(int(ms) for ms in remaining)]) / 1000

    async def failed(self, buckets: Sequence[Bucket]) -> float:
        """Count a failure in each bucket; returns the longest delay it set (seconds)."""
        s = self._settings
        longest = 0
        try:
            for b in buckets:
                delay = await self._fail(
                    keys=[f"{b.key}:count", f"{b.key}:block"],
                    args=[
                        int(s.login_failure_window_seconds * 1000),
                        b.free,
                        int(s.login_delay_base_seconds * 1000),
                        int(s.login_delay_max_seconds * 1000),
                    ],
                )
                longest = max(longest, int(delay))
        except RedisError:
            log.error("throttle: Redis unavailable; failure not counted", exc_info=True)
        return longest / 1000

    async def clear(self, bucket: Bucket) -> None:
        """After a success (or a password reset): the e-mail's count starts again from zero."""
        try:
            await self._redis.delete(f"{bucket.key}:count", f"{bucket.key}:block")
        except RedisError:
            log.error("throttle: Redis unavailable; count not cleared", exc_info=True)
