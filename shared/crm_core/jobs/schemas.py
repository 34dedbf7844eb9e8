"""What a job kind declares (filled by ``runner.job_actor``) and the registry of kinds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crm_core.jobs.runner import JobContext

Handler = Callable[["JobContext"], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    kind: str  # also the Dramatiq actor name: <domain>.<verb_noun>
    queue: str
    handler: Handler
    max_retries: int  # retries after the first attempt: max_attempts = max_retries + 1
    time_limit_ms: int
    min_backoff_ms: int
    max_backoff_ms: int
    # The permission the user who started the job must still hold when it runs.
    permission: str | None
    notify_on_success: bool

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def backoff_ms(self, attempt: int) -> int:
        """Delay before attempt ``attempt + 1``: doubling from the minimum, capped."""
        return int(min(self.max_backoff_ms, self.min_backoff_ms * 2 ** max(0, attempt - 1)))


KINDS: dict[str, JobKind] = {}


def kind_of(kind: str) -> JobKind:
    spec = KINDS.get(kind)
    if spec is None:
        raise LookupError(f"no job kind {kind!r} is declared (import its tasks module)")
    return spec
