"""Prometheus metrics of the daemon, served when ``[daemon] metrics_port`` is set.

Two kinds: counters the daemon bumps as things happen (sync errors, decisions by
recommendation, pages, notification failures) and gauges read from the store at scrape time
(sync lag, API budget, outbox depth and failed items), so they are right even for work a
previous daemon run left behind. Each ``DaemonMetrics`` has a registry of its own: two daemons
in one process (tests) do not share counters. Off by default; bound to 127.0.0.1 unless
``metrics_host`` says otherwise, since the figures name customers' helpdesks and teams.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime
from typing import Any, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily

from deskwatch.core.model import RECOMMENDATIONS, Decision

log = logging.getLogger("deskwatch.daemon")

ESCALATING = ("priority", "immediate")  # as core/policy/actions.ESCALATING
_PAGED_MEMORY = 10_000  # tickets remembered as paged, so a re-decision does not page twice


class _StoreCollector:
    """Gauges read from the store's status at each scrape."""

    def __init__(self, store: Any, clock: Callable[[], datetime]):
        self._store = store
        self._clock = clock

    def collect(self) -> Iterable[GaugeMetricFamily]:
        lag = GaugeMetricFamily("deskwatch_sync_lag_seconds", "Seconds since the last successful sync of a source", labels=["source"])
        depth = GaugeMetricFamily("deskwatch_outbox_depth", "Helpdesk updates waiting in the outbox", labels=["source"])
        failed = GaugeMetricFamily("deskwatch_outbox_failed", "Outbox updates that failed and wait for a retry (all sources)")
        remaining = GaugeMetricFamily("deskwatch_api_budget_remaining", "API requests left in the helpdesk's rate-limit window", labels=["source"])
        limit = GaugeMetricFamily("deskwatch_api_budget_limit", "Size of the helpdesk's rate-limit window", labels=["source"])
        try:
            st = self._store.status(self._clock())
        except Exception:  # a busy or closing store must not break the scrape
            log.warning("metrics: could not read the store's status")
            return []
        for s in st.sources:
            if s.lag_seconds is not None:
                lag.add_metric([s.name], s.lag_seconds)
            depth.add_metric([s.name], s.outbox_depth)
            budget = s.rate_limit or {}
            if isinstance(budget.get("remaining"), (int, float)):
                remaining.add_metric([s.name], budget["remaining"])
            if isinstance(budget.get("limit"), (int, float)):
                limit.add_metric([s.name], budget["limit"])
        failed.add_metric([], st.outbox_failed)
        return [lag, depth, failed, remaining, limit]


class DaemonMetrics:
    """The daemon's metrics and, once ``serve`` is called, their HTTP endpoint."""

    def __init__(self, store: Any = None, clock: Callable[[], datetime] | None = None):
        self.registry = CollectorRegistry()
        r = self.registry
        self.sync_errors = Counter("deskwatch_sync_errors", "Failed sync cycles", ["source"], registry=r)
        self.decisions = Counter("deskwatch_decisions", "Decisions recorded, by recommendation", ["recommendation"], registry=r)
        self.pages = Counter("deskwatch_pages", "Escalations routed to an on-call person (pages sent)", registry=r)
        self.notification_failures = Counter("deskwatch_notification_failures", "Notifications that could not be delivered", registry=r)
        for rec in RECOMMENDATIONS:
            self.decisions.labels(rec)  # every recommendation shows, at 0, before the first decision
        self._paged: OrderedDict[str, str | None] = OrderedDict()
        self._server: Any = None
        self._thread: Any = None
        if store is not None and clock is not None:
            r.register(_StoreCollector(store, clock))

    def sync_error(self, source: str) -> None:
        self.sync_errors.labels(source).inc()

    def decided(self, decisions: Iterable[Decision]) -> None:
        """Count decisions by recommendation, and a page for each newly paged ticket."""
        for d in decisions:
            self.decisions.labels(d.recommendation).inc()
            paging = d.recommendation in ESCALATING and ((d.route is not None and d.route.on_call) or bool(getattr(d, "page", False)))
            if not paging:
                self._paged.pop(d.ticket_id, None)
                continue
            who = d.route.agent if d.route is not None else None
            if self._paged.get(d.ticket_id, "\0") != who:
                self.pages.inc()
            self._paged[d.ticket_id] = who
            self._paged.move_to_end(d.ticket_id)
            while len(self._paged) > _PAGED_MEMORY:
                self._paged.popitem(last=False)

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics on ``host:port`` in a background thread; returns the bound port
        (useful with port 0)."""
        from prometheus_client import start_http_server

        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def start(self, config: Any) -> int | None:
        """Start the server when ``[daemon] metrics_port`` is set; the bound port, or None.
        A port already taken is logged, not fatal: the daemon's real work goes on."""
        port = getattr(config.daemon, "metrics_port", 0)
        if not port:
            return None
        host = getattr(config.daemon, "metrics_host", "127.0.0.1")
        try:
            bound = self.serve(host, port)
        except OSError as e:
            log.error("metrics server could not listen; check [daemon] metrics_host and metrics_port",
                      extra={"error": f"{host}:{port}: {e.strerror}"})
            return None
        log.info("serving Prometheus metrics", extra={"state": f"http://{host}:{bound}/metrics"})
        return bound

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
