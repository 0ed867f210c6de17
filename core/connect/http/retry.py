"""Retry policy: tenacity retries, Retry-After first, exponential backoff with jitter, capped by
attempts and total wait."""

from __future__ import annotations

import random
from dataclasses import dataclass


from deskwatch.core.connect.errors import ConnectorError, RateLimited
from deskwatch.core.model.settings import Section

@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry a failing call.

    :param max_attempts: attempts in total, the first one included.
    :param base_delay: first backoff in seconds; doubles each attempt (with full jitter).
    :param max_delay: cap on any single wait, Retry-After included.
    :param max_total_wait: give up rather than wait longer than this in total.
    :param default_retry_after: wait used for a 429 without Retry-After.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_total_wait: float = 300.0
    default_retry_after: float = 30.0
    jitter: bool = True

    KEYS = ("max_attempts", "max_retry_wait")

    @classmethod
    def from_section(cls, section: Section, defaults: "RetryPolicy | None" = None) -> "RetryPolicy":
        """Read ``max_attempts`` and ``max_retry_wait`` (seconds) from a source's settings."""
        d = defaults or cls()
        return cls(
            max_attempts=section.integer("max_attempts", d.max_attempts, min=1, max=20),
            base_delay=d.base_delay,
            max_delay=d.max_delay,
            max_total_wait=section.number("max_retry_wait", d.max_total_wait, min=0),
            default_retry_after=d.default_retry_after,
            jitter=d.jitter,
        )

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Wait before attempt ``attempt + 1`` when the server gave no hint."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        if not self.jitter:
            return ceiling
        # "Equal jitter": at least half the exponential step, so waits still grow.
        r = (rng or random).random()
        return ceiling / 2 + r * ceiling / 2

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """The wait after a failed attempt: Retry-After first, else exponential backoff; capped."""
        if isinstance(error, _Retryable):
            error = error.error
        hint = getattr(error, "retry_after", None)
        if isinstance(error, RateLimited) and hint is None:
            hint = self.default_retry_after
        if hint is not None:
            # The server said how long; waiting less only earns another refusal. A wait past
            # max_total_wait makes the retry loop give up at once, passing retry_after upward.
            return max(0.0, hint)
        return min(self.max_delay, max(0.0, self.backoff(attempt)))


NO_RETRY = RetryPolicy(max_attempts=1)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


class _Retryable(Exception):
    """Internal: carries a retryable ConnectorError through tenacity."""

    def __init__(self, error: ConnectorError):
        self.error = error
