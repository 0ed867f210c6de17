"""The sync daemon: one loop per helpdesk source that fetches, stores, decides and writes back.

Data flow per source (ARCHITECTURE.md): connector pages -> store (tickets + bookmark in one
transaction) -> decide each new or changed ticket (``pipeline.Decider``, which asks the pure
engine) -> planned updates into the outbox -> the outbox drained through the connector, each
update carrying an idempotency key the connector checks before applying.

Failure handling: a source's errors never stall the others. Each source has its own backoff
and circuit breaker; a rate limit waits exactly as long as the helpdesk asks. On SIGTERM or
SIGINT the daemon stops starting work, lets in-flight pages and outbox items finish within
``daemon.shutdown_timeout``, then closes the connectors and exits 0. A killed daemon resumes
from the committed bookmarks; an outbox item left mid-send is re-sent and the connector's
idempotency check makes the retry a no-op.

Several daemons share one store (docs/several-daemons.md): each registers under ``[daemon] id``
and polls a source only while it holds the source's lease (``leases.LeaseKeeper``); outbox items,
notifications and chain timers are claimed before they are sent or fired, so none is done twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Mapping

from deskwatch.core.config import Config
from deskwatch.core.config.runtime import SourceConfig
from deskwatch.core.connect.contract import AuthError, Connector, ConnectorError, RateLimited
from deskwatch.core.connect.http import waiting_on
from deskwatch.core.daemon.learner import learn_command, relearn_loop
from deskwatch.core.daemon import notify_send
from deskwatch.core.daemon.leases import LeaseKeeper, LeaseLost
from deskwatch.core.daemon.metrics import DaemonMetrics
from deskwatch.core.daemon.pipeline import Decider
from deskwatch.core.store import Store
from deskwatch.core.store.outbox import OutboxItem
from deskwatch.core.model.timeutil import utcnow

log = logging.getLogger("deskwatch.daemon")

BREAKER_THRESHOLD = 5  # consecutive failures that open a source's circuit
BACKOFF_BASE, BACKOFF_MAX = 1.0, 300.0
AUTH_COOLDOWN = 300.0  # refused credentials will not fix themselves quickly
OUTBOX_BATCH = 50
CHAIN_CHECK_INTERVAL = 30.0  # seconds between progressive-escalation checks
MAX_REFUSED_ATTEMPTS = 8  # an update the helpdesk keeps refusing is marked failed for good
WAIT_SHOWN_AFTER = 1.0  # seconds a request is outstanding before `status` shows it


@dataclass
class SourceRuntime:
    """What the daemon knows about one source while it runs."""

    cfg: SourceConfig
    connector: Connector
    failures: int = 0
    breaker_open_until: float = 0.0  # time.monotonic(); 0 = closed
    pages: int = 0
    tickets: int = 0
    decided: int = 0
    applied: int = 0

    @property
    def name(self) -> str:
        return self.cfg.name


@dataclass
class DaemonReport:
    """Counters logged at shutdown and returned to callers (tests, `--once`)."""

    pages: int = 0
    tickets: int = 0
    decided: int = 0
    applied: int = 0
    errors: dict[str, str] = field(default_factory=dict)


class Daemon:
    def __init__(
        self,
        config: Config,
        store: Store,
        connectors: Mapping[str, Connector],
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        decider: Decider | None = None,
    ):
        self.config = config
        self.store = store
        self.clock = clock
        self.decider = decider or Decider(config, store)
        self.sources = {name: SourceRuntime(config.sources[name], c) for name, c in connectors.items()}
        self.stopping = asyncio.Event()
        self._sleep = sleep
        self._rng = random.Random()
        self.metrics = DaemonMetrics(store, clock)
        self.daemon_id = config.daemon.id or socket.gethostname()
        self.keeper: LeaseKeeper | None = None  # set while run() runs

    # -- lifecycle --------------------------------------------------------------------------
    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stop requested: finishing in-flight work")
            self.stopping.set()

    async def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` or until a stop is requested; True if stopping."""
        if self._sleep is not None:
            await self._sleep(seconds)
            return self.stopping.is_set()
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=max(0.0, seconds))
        except asyncio.TimeoutError:
            pass
        return self.stopping.is_set()

    async def run(self, *, once: bool = False) -> DaemonReport:
        """Run every source's loop until stopped (or one cycle each with ``once``)."""
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.request_stop)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or Windows: the caller stops us instead
        self._register()
        # Items this daemon's previous run left mid-send go back to pending (other daemons' are
        # theirs; a source's new lease holder settles a dead holder's).
        self.store.requeue_sending(holder=self.daemon_id)
        log.info("daemon starting", extra={"state": f"{len(self.sources)} source(s) as {self.daemon_id}"})
        keeper = self.keeper = LeaseKeeper(
            self.store, self.daemon_id, list(self.sources), self.config.daemon.lease_seconds, self.clock,
            lambda name: asyncio.create_task(self._source_loop(self.sources[name], once), name=f"sync-{name}"), self.wait)
        leasing = None
        beat = asyncio.create_task(self._heartbeat_loop(), name="heartbeat")
        watch = asyncio.create_task(self._waiting_loop(), name="waiting")
        background = [beat]
        learn_cfg = getattr(self.config, "learn", None)
        if not once and learn_cfg is not None and learn_cfg.interval:
            background.append(asyncio.create_task(
                relearn_loop(learn_cfg.interval, learn_command(self.config.file), self.wait), name="learn"))
        notify = asyncio.create_task(notify_send.run(self), name="notify")  # notifications to people
        self.metrics.start(self.config)
        try:
            if once:
                keeper.round(share=len(self.sources))  # whatever no other daemon holds
                for name in set(self.sources) - set(keeper.deadline):
                    log.warning("another daemon holds this source's lease; skipped", extra={"source": name})
                await asyncio.gather(*keeper.tasks.values(), return_exceptions=True)
            else:
                leasing = asyncio.create_task(keeper.run(self.stopping), name="leases")
                await self.stopping.wait()
                await asyncio.gather(leasing, return_exceptions=True)
        finally:
            self.stopping.set()
            if leasing is not None and not leasing.done():
                leasing.cancel()
            await keeper.release_all(self.config.daemon.shutdown_timeout)
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            await notify_send.finish(notify, self.config.daemon.shutdown_timeout)  # its last pass sends what is due
            for s in self.sources.values():
                try:
                    self.store.record_waiting(s.name, None, None)
                except Exception:  # the store is unreachable; status ignores a stopped daemon's waits
                    break
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            self._stopped()
            self.metrics.close()
            for s in self.sources.values():
                try:
                    await s.connector.close()
                except Exception as e:  # closing must not hide the real outcome
                    log.warning("closing connector failed", extra={"source": s.name, "error": str(e)})
            for sig in installed:
                loop.remove_signal_handler(sig)
        report = self.report()
        log.info("daemon stopped", extra={"pages": report.pages, "tickets": report.tickets,
                                          "decided": report.decided, "updates": report.applied})
        return report

    def report(self) -> DaemonReport:
        r = DaemonReport()
        for s in self.sources.values():
            r.pages += s.pages
            r.tickets += s.tickets
            r.decided += s.decided
            r.applied += s.applied
        for row in self.store.status(self.clock()).sources:
            if row.last_error:
                r.errors[row.name] = row.last_error
        return r

    def _register(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ours = version("deskwatch")
        except PackageNotFoundError:
            ours = "unknown"
        self.store.register_daemon(self.daemon_id, socket.gethostname(), os.getpid(), ours, self.clock(),
                                   self.config.daemon.heartbeat_interval)

    def _stopped(self) -> None:
        try:
            now = self.clock()
            self.store.daemon_stopped(self.daemon_id, os.getpid(), now)
            self.store.heartbeat_stopped(now, pid=os.getpid())
        except Exception as e:  # the store is gone: the heartbeat ages out by itself
            log.warning("could not record the stop", extra={"error": str(e)[:200]})

    async def _heartbeat_loop(self) -> None:
        interval = self.config.daemon.heartbeat_interval
        next_chain_check = 0.0
        failures = 0
        while True:
            now = self.clock()
            try:
                self.store.heartbeat(os.getpid(), now, interval)
                if not self.store.daemon_beat(self.daemon_id, os.getpid(), now):
                    log.error("another daemon has taken over this daemon's id; stopping. Give each daemon its own "
                              "[daemon] id", extra={"state": self.daemon_id})
                    self.request_stop()
                failures = 0
            except Exception as e:  # the store is unreachable: beat again with backoff
                failures += 1
                log.warning("heartbeat failed", extra={"error": f"{type(e).__name__}: {e}"[:300]})
                if await self.wait(min(BACKOFF_MAX, interval * 2 ** min(failures, 6))):
                    return
                continue
            if time.monotonic() >= next_chain_check:
                # Chain steps wait minutes; checking twice a minute is plenty and keeps the
                # heartbeat cheap on a large store.
                next_chain_check = time.monotonic() + CHAIN_CHECK_INTERVAL
                try:
                    self.decider.advance_chains(now)
                except Exception:
                    log.exception("escalation timers failed")
            if await self.wait(interval):
                return

    async def _waiting_loop(self) -> None:
        """Mirror the request each source is waiting on into the store, so `deskwatch status`
        shows "waiting on <endpoint> for N s" while a helpdesk hangs. Writes only on change."""
        shown: dict[str, object] = {}
        while not self.stopping.is_set():
            for name in self.sources:
                w = waiting_on(name)
                if w is not None and w.seconds() < WAIT_SHOWN_AFTER:
                    w = None
                if shown.get(name) != w:
                    try:
                        self.store.record_waiting(name, w.endpoint if w else None, w.since if w else None)
                    except Exception:  # the store is unreachable: the heartbeat says so; show it later
                        continue
                    shown[name] = w
            try:  # real time even when tests pass a fast sleep: this only reports
                await asyncio.wait_for(self.stopping.wait(), WAIT_SHOWN_AFTER / 2)
            except asyncio.TimeoutError:
                pass

    # -- one source ---------------------------------------------------------------------------
    async def _source_loop(self, src: SourceRuntime, once: bool) -> None:
        while not self.stopping.is_set():
            pause = src.cfg.poll_interval
            if src.breaker_open_until > time.monotonic():
                if once:
                    return
                await self.wait(src.breaker_open_until - time.monotonic())
                continue
            try:
                await self.sync_source(src)
                await self.drain_outbox(src)
                self.store.record_sync_ok(src.name, self.clock())
                src.failures = 0
            except LeaseLost:
                log.info("stopped polling: lease no longer held", extra={"source": src.name})
                return
            except RateLimited as e:
                pause = e.retry_after if e.retry_after is not None else self._backoff(src)
                self._failed(src, f"rate limited: {e.message}", open_breaker=False)
                log.warning("rate limited", extra={"source": src.name, "retry_after": round(pause, 1)})
            except AuthError as e:
                self._failed(src, str(e), cooldown=AUTH_COOLDOWN)
                log.error("authentication failed; fix the credentials in the config", extra={"source": src.name, "error": str(e)})
            except ConnectorError as e:
                pause = self._backoff(src)
                self._failed(src, str(e))
                log.warning("sync failed", extra={"source": src.name, "error": str(e), "retry_after": round(pause, 1)})
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a bug in one source must not take the others down
                pause = self._backoff(src)
                self._failed(src, f"{type(e).__name__}: {e}")
                log.exception("sync crashed", extra={"source": src.name})
            if once:
                return
            await self.wait(pause)

    def _may_poll(self, src: SourceRuntime) -> None:
        """Raise LeaseLost unless this daemon holds ``src``'s lease (always so outside ``run``)."""
        if self.keeper is not None:
            self.keeper.check(src.name)

    def _backoff(self, src: SourceRuntime) -> float:
        exp = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, src.failures))
        return exp * (0.5 + self._rng.random() / 2)  # jitter keeps sources from retrying in lockstep

    def _failed(self, src: SourceRuntime, error: str, *, open_breaker: bool = True, cooldown: float | None = None) -> None:
        src.failures += 1
        self.metrics.sync_error(src.name)
        try:
            self.store.record_sync_error(src.name, error, self.clock())
        except Exception as e:  # the store itself is what fails: back off all the same
            log.warning("could not record the error", extra={"source": src.name, "error": f"{type(e).__name__}: {e}"[:300]})
        if cooldown is not None or (open_breaker and src.failures >= BREAKER_THRESHOLD):
            wait = cooldown if cooldown is not None else min(BACKOFF_MAX, BACKOFF_BASE * 2 ** src.failures)
            src.breaker_open_until = time.monotonic() + wait
            log.warning("circuit open", extra={"source": src.name, "retry_after": round(wait, 1)})

    async def sync_source(self, src: SourceRuntime) -> int:
        """Fetch every page since the bookmark, storing and deciding each before the next."""
        started = self.clock()
        bookmark = self.store.get_bookmark(src.name)
        fetched = 0
        self._may_poll(src)
        polled_to = started
        async for page in src.connector.fetch(bookmark, until=started):
            self._may_poll(src)  # the page is not stored unless the lease still holds
            polled_to = self.clock()
            result = self.store.save_page(src.name, page.tickets, page.deleted, page.bookmark, now=self.clock())
            src.pages += 1
            src.tickets += len(page.tickets)
            fetched += len(page.tickets)
            now = self.clock()
            todo = list(result.to_decide)
            for i in range(0, len(todo), 100):
                # In slices, so other sources' I/O runs between them during a large backfill.
                decided = self.decider.decide_many(todo[i:i + 100], now, write_back=src.cfg.write_back, continue_page=i > 0)
                src.decided += len(decided)
                self.metrics.decided(decided)
                await asyncio.sleep(0)
            snap = src.connector.rate_budget()
            if snap is not None:
                self.store.record_rate_limit(src.name, snap.as_dict(), now)
            if self.stopping.is_set():
                break  # this page and its bookmark are committed; stop before the next one
        if not self.stopping.is_set():
            await self.reconcile_deleted(src)
        if fetched:
            # The window in which pages were fetched and stored under the lease; deciding them
            # may run on after it (the fleet check in bench/fleet.py reads this window).
            log.info("synced", extra={"source": src.name, "tickets": fetched, "polled_from": started.isoformat(),
                                      "polled_to": polled_to.isoformat()})
        return fetched

    async def reconcile_deleted(self, src: SourceRuntime) -> int:
        """Hard deletes a helpdesk can no longer report (Salesforce's getDeleted reaches 15
        days back): when the connector says its deletion lookup fell behind that window
        (``reconcile_since`` set), the tickets deskwatch holds for the source that the helpdesk
        no longer lists are marked deleted. Returns how many were."""
        connector = src.connector
        if getattr(connector, "reconcile_since", None) is None or not callable(getattr(connector, "reconcile_ids", None)):
            return 0
        known = self.store.live_ticket_ids(src.name)
        gone = await connector.reconcile_ids(known)  # type: ignore[attr-defined]
        if gone:
            # No bookmark: the deletions ride alone, the sync's bookmark is already committed.
            result = self.store.save_page(src.name, (), gone, None, now=self.clock())
            log.info("reconciled deletions", extra={"source": src.name, "tickets": len(result.deleted)})
            return len(result.deleted)
        return 0

    async def drain_outbox(self, src: SourceRuntime) -> int:
        """Send pending updates for this source; each is marked applied or failed with why.

        On a stop request no new item is claimed or started; the one in flight finishes (or is
        cancelled at ``shutdown_timeout``), and every claimed item not settled goes back to
        ``pending`` explicitly, as do the rest of a batch when the source must back off. A send
        whose answer was lost is never a refusal: it is retried, and the connector's marker
        check settles it, however many attempts that takes."""
        if not src.cfg.write_back:
            return 0
        sent = 0
        while not self.stopping.is_set():
            self._may_poll(src)
            items = self.store.claim(src.name, OUTBOX_BATCH, self.clock(), holder=self.daemon_id)
            if not items:
                return sent
            unsettled = [i.update.idempotency_key for i in items]
            try:
                for item in items:
                    if self.stopping.is_set():
                        break
                    self._may_poll(src)
                    applied = await self._send_item(src, item)
                    unsettled.remove(item.update.idempotency_key)
                    sent += applied
            finally:
                # Also on the cancellation at shutdown_timeout (the store call is synchronous):
                # a stop never leaves items 'sending' for the next start or the lease.
                if unsettled:
                    n = self.store.release(unsettled)
                    if n:
                        log.info("outbox items put back", extra={"source": src.name, "state": f"{n} pending"})
        return sent

    async def _send_item(self, src: SourceRuntime, item: OutboxItem) -> bool:
        """One claimed outbox item through the connector, recorded as applied or failed;
        True when the helpdesk has it."""
        key = item.update.idempotency_key
        try:
            result = await src.connector.update(item.update)
        except RateLimited as e:
            wait = e.retry_after if e.retry_after is not None else 30.0
            self.store.mark_failed(key, f"rate limited: {e.message}", self.clock() + timedelta(seconds=wait))
            raise
        except AuthError as e:
            self.store.mark_failed(key, str(e), self.clock() + timedelta(seconds=AUTH_COOLDOWN))
            raise
        except ConnectorError as e:
            # One item's error (a 403/404/422) fails that item for good after a bounded number
            # of attempts and the source carries on; a transient error, or one sent with its
            # answer lost (OutcomeUnknown), is never given up on.
            delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(item.attempts, 8))
            retry = None if _gives_up(e, item.attempts) else self.clock() + timedelta(seconds=delay)
            self.store.mark_failed(key, str(e), retry)
            return False
        if result.ok:
            self.store.mark_applied(key, result.outcome, self.clock())
            src.applied += 1
            return True
        if result.outcome == "conflict":
            # The ticket changed under us: retry soon against the fresh state.
            self.store.mark_failed(key, f"conflict: {result.message}", self.clock() + timedelta(seconds=5))
            return False
        # The helpdesk refused it (a value it lacks, a missing mapping): retry a few times in
        # case the config is fixed and the daemon restarted, then give up. The connector read
        # the marker in this same call, so a refusal here is never an update that landed.
        retry = None if item.attempts >= MAX_REFUSED_ATTEMPTS else self.clock() + timedelta(
            seconds=min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(item.attempts, 8)))
        self.store.mark_failed(key, result.message or "failed", retry)
        return False


def _gives_up(error: ConnectorError, attempts: int) -> bool:
    """Whether an update that raised ``error`` on its ``attempts``-th try is failed for good:
    only a refusal of that item (a 4xx other than a timeout, conflict or rate limit: 403, 404,
    422…) after MAX_REFUSED_ATTEMPTS. A transient failure, or one whose outcome is unknown, is
    never given up on (it may have landed; the marker check settles it)."""
    refused = error.status is not None and 400 <= error.status < 500 and error.status not in (408, 409, 425, 429)
    return refused and attempts >= MAX_REFUSED_ATTEMPTS
