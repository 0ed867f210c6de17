"""The daemon's side of sharing sources with other daemons: leases, fair shares, takeover.

A daemon polls a source only while it holds the source's lease (core/store/fleet.py). Every
third of ``[daemon] lease_seconds`` the keeper beats, renews what it holds, lets one source go
when it holds more than its fair share (the sources divided by the daemons heard from within a
lease period, rounded up) and another daemon holds at least two fewer, and takes free or expired
leases up to that share. A renewal that fails, because another daemon has the
lease or because the store cannot be reached, stops that source's work at once; so does the
local deadline (the renewal's start plus the lease, less a margin) running out while the store
is slow to answer, so a daemon never polls on a lease it may no longer hold. A store error puts
the keeper into backoff: it drops every lease and tries again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import time
from typing import Any, Awaitable, Callable

log = logging.getLogger("deskwatch.daemon")

MARGIN = 0.2  # of a lease: stop this long before the lease could run out in the store
BACKOFF_BASE, BACKOFF_MAX = 1.0, 60.0


class LeaseLost(Exception):
    """This daemon no longer holds the lease of the source it was working on."""


def preference(daemon_id: str, source: str) -> str:
    """Each daemon prefers sources in its own order (rendezvous hashing), so daemons starting
    together reach for different sources instead of racing for the same one."""
    return hashlib.sha256(f"{daemon_id}\0{source}".encode()).hexdigest()


class LeaseKeeper:
    """Holds, renews and gives up source leases for one daemon; starts a source's work when
    its lease is taken and cancels it when the lease is lost or let go."""

    def __init__(self, store: Any, daemon_id: str, sources: list[str], seconds: float, clock: Callable[[], Any],
                 start: Callable[[str], asyncio.Task], wait: Callable[[float], Awaitable[bool]]):
        self.store = store
        self.daemon_id = daemon_id
        self.sources = sorted(sources, key=lambda s: preference(daemon_id, s))
        self.seconds = seconds
        self.clock = clock
        self._start = start
        self._wait = wait
        self.deadline: dict[str, float] = {}  # source -> time.monotonic() until which we may poll it
        self.tasks: dict[str, asyncio.Task] = {}
        self.failures = 0

    @property
    def interval(self) -> float:
        return self.seconds / 3

    def holds(self, source: str) -> bool:
        """Whether this daemon may poll ``source`` right now."""
        return self.deadline.get(source, 0.0) > time.monotonic()

    def check(self, source: str) -> None:
        """Raise LeaseLost unless this daemon may poll ``source`` now (between pages, before a send)."""
        if not self.holds(source):
            raise LeaseLost(source)

    async def run(self, stopping: asyncio.Event) -> None:
        """Keep leases until ``stopping`` is set; then the caller lets go with ``release_all``."""
        while not stopping.is_set():
            pause = self.interval
            try:
                self.round()
                self.failures = 0
            except Exception as e:  # the store is unreachable or failing: keep nothing we cannot renew
                self.failures += 1
                self.drop_all("the store could not be reached")
                pause = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(self.failures, 6))
                log.warning("lease renewal failed; polling nothing until the store answers",
                            extra={"error": f"{type(e).__name__}: {e}"[:300], "retry_after": round(pause, 1)})
            if await self._wait(pause):
                return

    def round(self, *, share: int | None = None) -> None:
        """One pass: renew, let go of one over the fair share, take up to it. ``share``
        overrides the fair share (``--once`` takes whatever is free)."""
        started = time.monotonic()
        now = self.clock()
        self._expire_overdue()
        # Beat here too: the fair share counts daemons heard from within one lease period, so a
        # dead daemon stops counting by the time its leases expire, whatever heartbeat_interval is.
        if not self.store.daemon_beat(self.daemon_id, os.getpid(), now):
            self.drop_all("another process has taken over this daemon's id")
            return
        for source in list(self.deadline):
            if self.store.take_lease(source, self.daemon_id, now, self.seconds):
                self.deadline[source] = started + self.seconds * (1 - MARGIN)
            else:
                self.lose(source, "another daemon holds its lease now")
        others: list[int] = []
        if share is None:
            live = [d for d in self.store.daemons(now) if d.stopped_at is None
                    and (now - d.heartbeat_at).total_seconds() < self.seconds]
            others = [len(d.sources) for d in live if d.id != self.daemon_id]
            share = math.ceil(len(self.sources) / (len(others) + 1))
        mine = len(self.deadline)
        if mine > share and any(n < mine - 1 for n in others):
            # Leave one to a daemon with fewer (one per round, so the fleet settles calmly);
            # only when that evens things out, so no source is let go for nobody to take.
            source = max(self.deadline, key=lambda s: preference(self.daemon_id, s))
            self.let_go(source, "more than a fair share")
            return
        for source in self.sources:
            if len(self.deadline) >= share:
                break
            if source in self.deadline:
                continue
            if self.store.take_lease(source, self.daemon_id, now, self.seconds):
                self.deadline[source] = started + self.seconds * (1 - MARGIN)
                # Whatever its previous holder left mid-send is ours to settle now: it stopped
                # sending before its lease ran out (the connector's marker check settles it).
                self.store.requeue_sending(source)
                log.info("lease taken", extra={"source": source, "state": f"held by {self.daemon_id}"})
                self.tasks[source] = self._start(source)
        self._expire_overdue()  # a round slower than the margin leaves nothing running unchecked

    def _expire_overdue(self) -> None:
        for source in [s for s in self.deadline if not self.holds(s)]:
            self.lose(source, "its renewal did not come in time")

    def _stop(self, source: str) -> None:
        self.deadline.pop(source, None)
        task = self.tasks.pop(source, None)
        if task is not None and not task.done():
            task.cancel()

    def lose(self, source: str, why: str) -> None:
        """Stop ``source``'s work at once: the lease cannot be renewed."""
        self._stop(source)
        log.warning("lease lost; stopped polling", extra={"source": source, "error": why})
        try:
            self.store.note_lease_lost(source, self.daemon_id, self.clock())
        except Exception:  # the store is what failed: the lease runs out there by itself
            pass

    def drop_all(self, why: str) -> None:
        for source in list(self.deadline):
            self.lose(source, why)

    def let_go(self, source: str, why: str) -> None:
        """Stop ``source``'s work and free its lease for another daemon straight away."""
        self._stop(source)
        self.store.release_lease(source, self.daemon_id, self.clock())
        log.info("lease let go", extra={"source": source, "state": why})

    async def release_all(self, timeout: float) -> None:
        """At a stop: let running work finish within ``timeout`` seconds, then free every lease."""
        running = [t for t in self.tasks.values() if not t.done()]
        if running:
            done, pending = await asyncio.wait(running, timeout=timeout)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for source in list(self.deadline):
            self.deadline.pop(source, None)
            try:
                self.store.release_lease(source, self.daemon_id, self.clock())
            except Exception as e:  # it runs out by itself
                log.warning("could not free a lease at stop", extra={"source": source, "error": str(e)[:200]})
        self.tasks.clear()
