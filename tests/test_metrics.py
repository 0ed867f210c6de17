"""Prometheus metrics: served on a port when configured, scraped over HTTP."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from deskwatch.core import config
from deskwatch.core.cli.commands.daemon import build
from deskwatch.core.daemon.metrics import DaemonMetrics
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model import Route, TicketUpdate
from deskwatch.core.model.settings import ConfigError
from deskwatch.core.store import Store

from .conftest import NOW
from .store.factory import decision
from .test_daemon import daemon_config, simulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "deskwatch.db")
    yield s
    s.close()


def test_scrape_shows_counters_and_store_gauges(store):
    store.record_sync_ok("zendesk", NOW - timedelta(seconds=42))
    store.record_rate_limit("zendesk", {"remaining": 80, "limit": 100}, NOW)
    store.enqueue(TicketUpdate("zendesk:1", "zendesk", "k1", private_note="hi"), NOW)
    m = DaemonMetrics(store, lambda: NOW)
    cfg = config.load(None)
    port = free_port()
    bound = m.start(replace(cfg, sections={**cfg.sections, "daemon": replace(cfg.daemon, metrics_port=port)}))
    assert bound == port
    try:
        paged = replace(decision("zendesk:1", recommendation="immediate"), route=Route("tier2", "billing", "cy", True, 0, "on call"))
        m.decided([paged, paged, decision("zendesk:2", recommendation="none")])  # the same page decided twice
        m.sync_error("freshdesk")
        resp = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert resp.status_code == 200
        got = samples(resp.text)
    finally:
        m.close()
    assert got['deskwatch_decisions_total{recommendation="immediate"}'] == 2
    assert got['deskwatch_decisions_total{recommendation="none"}'] == 1
    assert got['deskwatch_decisions_total{recommendation="monitor"}'] == 0
    assert got["deskwatch_pages_total"] == 1
    assert got["deskwatch_notification_failures_total"] == 0
    assert got['deskwatch_sync_errors_total{source="freshdesk"}'] == 1
    assert got['deskwatch_sync_lag_seconds{source="zendesk"}'] == 42
    assert got['deskwatch_api_budget_remaining{source="zendesk"}'] == 80
    assert got['deskwatch_api_budget_limit{source="zendesk"}'] == 100
    assert got['deskwatch_outbox_depth{source="zendesk"}'] == 1
    assert got["deskwatch_outbox_failed"] == 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)  # closed with the daemon


def test_off_by_default_and_loopback():
    cfg = config.load(None)
    assert cfg.daemon.metrics_port == 0 and cfg.daemon.metrics_host == "127.0.0.1"
    assert DaemonMetrics().start(cfg) is None


def test_bad_port_names_the_key(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[daemon]\nmetrics_port = 70000\n")
    with pytest.raises(ConfigError) as e:
        config.load(p)
    assert "metrics_port" in str(e.value)


def test_the_daemon_counts_its_decisions(tmp_path):
    sim = simulator(backlog=12)
    try:
        data = daemon_config(sim, tmp_path)
        data["daemon"]["metrics_port"] = free_port()
        p = tmp_path / "c.toml"
        import tomli_w

        p.write_bytes(tomli_w.dumps(data).encode())
        cfg = config.load(p)
        store, connectors = build(cfg)
        try:
            daemon = Daemon(cfg, store, connectors)
            report = asyncio.run(daemon.run(once=True))
            reg = daemon.metrics.registry
            counted = sum(reg.get_sample_value("deskwatch_decisions_total", {"recommendation": r}) or 0
                          for r in ("none", "monitor", "priority", "immediate"))
            assert counted == report.decided > 0
        finally:
            store.close()
    finally:
        sim.stop()
