"""Rate limits of the public survey page, in Redis: fixed windows per client IP and per link.

Every request counts (a GET as much as a POST): the page needs no login, so these counters are
what stands between it and a script. IPv6 clients are counted per /64 (``client_network``), links
by a digest of the token (tokens stay out of the key space). When Redis cannot be reached the page
stays up and the failure is logged: a response is still single-use and signed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from crm_core.identity.throttle import client_network

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    subject: str
    allowed: int
    window_seconds: int


class SurveyRateLimiter:
    def __init__(self, redis: Redis, *, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:survey-rate"

    @staticmethod
    def limits(
        ip: str | None, token: str, *, per_ip_minute: int, per_token_hour: int
    ) -> tuple[Limit, Limit]:
        digest = hashlib.sha256(token.encode()).hexdigest()[:32]
        return (
            Limit("ip", client_network(ip), per_ip_minute, 60),
            Limit("token", digest, per_token_hour, 3_600),
        )

    async def hit(self, limits: tuple[Limit, ...], now: float | None = None) -> float:
        """Count one request in every window; 0 if it may proceed, else seconds to wait."""
        now = time.time() if now is None else now
        wait = 0.0
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for lim in limits:
                    window = int(now // lim.window_seconds)
                    key = f"{self._prefix}:{lim.name}:{lim.subject}:{window}"
                    pipe.incr(key)
                    pipe.expire(key, lim.window_seconds + 5)
                counts = await pipe.execute()
        except RedisError:
            log.error("survey rate limit: Redis unavailable; request allowed", exc_info=True)
            return 0.0
        for lim, count in zip(limits, counts[::2], strict=True):
            if int(count) > lim.allowed:
                wait = max(wait, lim.window_seconds - (now % lim.window_seconds))
        return wait
