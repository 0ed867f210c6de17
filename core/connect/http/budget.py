"""Rate budget: a client-side token bucket that also reads the helpdesk's "remaining" headers, so
``deskwatch status`` can show how much quota is left."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from deskwatch.core.connect.http.base import Sleep

@dataclass(frozen=True)
class BudgetSnapshot:
    """What ``deskwatch status`` shows for a source's API quota."""

    limit: int | None
    remaining: int | None
    per_minute: float | None
    tokens: float | None
    observed_header: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "per_minute": self.per_minute,
            "tokens": None if self.tokens is None else round(self.tokens, 2),
            "header": self.observed_header,
        }


_REMAINING_HEADERS = (
    ("x-rate-limit-remaining", "x-rate-limit"),
    ("x-ratelimit-remaining", "x-ratelimit-total"),
    ("ratelimit-remaining", "ratelimit-limit"),
)
_SFORCE_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class RateBudget:
    """Client-side rate limiting: a token bucket of ``per_minute`` calls (None: unlimited),
    plus the quota the helpdesk reports in its headers. Share one budget between sources on
    the same account so together they stay under the shared quota.

    ``reserve`` keeps that many calls in hand: when the server says fewer remain, ``acquire``
    waits ``reserve_wait`` seconds before each call instead of running the quota to zero.
    ``reserve_share`` does the same for a share of the quota the server reports (0.1: a tenth
    of X-Rate-Limit / Sforce-Limit-Info's limit stays for the account's other integrations).
    """

    def __init__(
        self,
        per_minute: float | None = None,
        *,
        reserve: int = 0,
        reserve_wait: float = 1.0,
        reserve_share: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        self.per_minute = per_minute
        if not 0.0 <= reserve_share < 1.0:
            raise ValueError(f"reserve_share: expected a share from 0 to below 1, got {reserve_share!r}")
        self.reserve = reserve
        self.reserve_wait = reserve_wait
        self.reserve_share = reserve_share
        self._clock = clock
        self._sleep = sleep
        self._capacity = max(1.0, per_minute or 1.0)
        self._tokens = self._capacity
        self._stamp = clock()
        self.limit: int | None = None
        self.remaining: int | None = None
        self.observed_header: str | None = None
        self.waited = 0.0  # seconds spent waiting on the budget, for status and tests

    def _refill(self) -> None:
        now = self._clock()
        if self.per_minute:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self.per_minute / 60.0)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait until one call may be made, then take it."""
        if self.remaining is not None and self.remaining <= self.held_back() and self.held_back():
            self.waited += self.reserve_wait
            await self._sleep(self.reserve_wait)
        if not self.per_minute:
            return
        self._refill()
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) * 60.0 / self.per_minute
            self.waited += wait
            await self._sleep(wait)
            self._refill()
            # A fake sleep does not advance the clock; the wait has been served either way.
            self._tokens = max(self._tokens, 1.0)
        self._tokens -= 1.0

    def held_back(self) -> int:
        """Calls kept in hand: ``reserve``, or ``reserve_share`` of the reported limit if larger."""
        share = int(self.limit * self.reserve_share + 0.999) if self.limit and self.reserve_share else 0
        return max(self.reserve, share)

    def observe(self, response: httpx.Response) -> None:
        """Read remaining quota from X-Rate-Limit-Remaining, X-Ratelimit-Remaining,
        RateLimit-Remaining or Sforce-Limit-Info (``api-usage=used/limit``)."""
        h = response.headers
        for rem_name, lim_name in _REMAINING_HEADERS:
            if rem_name in h:
                rem = _int(h.get(rem_name))
                if rem is not None:
                    self.remaining, self.observed_header = rem, rem_name
                    lim = _int(h.get(lim_name))
                    if lim is not None:
                        self.limit = lim
                    return
        info = h.get("sforce-limit-info")
        if info:
            m = _SFORCE_USAGE.search(info)
            if m:
                used, lim = int(m.group(1)), int(m.group(2))
                self.limit, self.remaining, self.observed_header = lim, max(0, lim - used), "sforce-limit-info"

    def snapshot(self) -> BudgetSnapshot:
        if self.per_minute:
            self._refill()
        return BudgetSnapshot(
            self.limit, self.remaining, self.per_minute, self._tokens if self.per_minute else None, self.observed_header
        )


def _int(v: str | None) -> int | None:
    try:
        return int(float(v)) if v is not None else None
    except ValueError:
        return None
