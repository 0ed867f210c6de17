"""Salesforce hard deletes past getDeleted's 15-day window: the daemon reconciles ids (the
Cases Salesforce still lists against the tickets the store holds) and marks the missing ones
deleted, against the simulator."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from deskwatch.core import config
from deskwatch.core.cli.commands.daemon import build
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model.settings import Section
from deskwatch.core.model.timeutil import format_time, utcnow
from deskwatch.core.simulator.runner import Simulator, parse


def _setup(tmp_path, start_time: str = "2000-01-01T00:00:00Z"):
    sim = Simulator(parse(Section({"seed": 5, "backlog": 30, "backlog_hours": 48.0, "rate_per_minute": 0.0,
                                   "rate_limits": False}, "simulator"))).start()
    data = config.default_data()
    data["store"] = {"path": str(tmp_path / "deskwatch.db")}
    sources = sim.sources_config(write_back=False, poll_interval=0.1)
    data["sources"] = {"salesforce": {**sources["salesforce"], "start_time": start_time}}
    return sim, config.parse_data(data, "test")


def _sync(cfg) -> list[str]:
    """One daemon pass; the Salesforce ticket ids the store holds (deleted ones left out)."""
    store, connectors = build(cfg)
    try:
        asyncio.run(Daemon(cfg, store, connectors).run(once=True))
        return sorted(r[0] for r in store._q("SELECT id FROM tickets WHERE source = 'salesforce' AND deleted = 0"))
    finally:
        store.close()


def _purge(sim: Simulator, cids: list[str]) -> None:
    """Hard-delete Cases 20 days ago: past getDeleted's window, and not in queryAll's changes."""
    sf = sim.apps["salesforce"]
    long_ago = utcnow() - timedelta(days=20)
    for cid in cids:
        sf.by_id[cid].deleted = True
        sf.by_id[cid].updated_at = long_ago
        sf.overlay[cid]["modified"] = long_ago


def _backdate_deletion_lookup(cfg, days: int) -> None:
    store, _ = build(cfg)
    try:
        bookmark = dict(store.get_bookmark("salesforce"))
        bookmark["deleted_since"] = format_time(utcnow() - timedelta(days=days))
        store.save_page("salesforce", (), (), bookmark)
    finally:
        store.close()


def test_daemon_marks_cases_deleted_past_the_window_after_reconciling(tmp_path):
    sim, cfg = _setup(tmp_path)
    try:
        held = _sync(cfg)
        assert len(held) >= 10
        purged = [t.split(":", 1)[1] for t in held[:3]]
        _purge(sim, purged)
        # Within the window nothing tells the connector to reconcile, and getDeleted never
        # saw these deletions: they stay (this is the gap reconciling closes).
        assert _sync(cfg) == held
        _backdate_deletion_lookup(cfg, days=20)  # the last lookup is older than the window
        after = _sync(cfg)
        assert after == [t for t in held if t.split(":", 1)[1] not in purged]
        # Reconciled once: the next sync (bookmark inside the window again) lists no ids.
        before = sim.recorder.requests["salesforce"]
        assert _sync(cfg) == after
        assert sim.recorder.requests["salesforce"] - before <= 4
    finally:
        sim.stop()


def test_a_case_created_before_start_time_is_not_reconciled_away(tmp_path):
    sim, cfg = _setup(tmp_path, start_time=format_time(utcnow() - timedelta(days=5)))
    try:
        held = _sync(cfg)
        sf = sim.apps["salesforce"]
        # The store holds a Case created long before the source's start_time (it was changed
        # since): listing only Cases created since start_time would wrongly drop it.
        sf.by_id[held[0].split(":", 1)[1]].created_at = utcnow() - timedelta(days=400)
        _backdate_deletion_lookup(cfg, days=20)
        assert _sync(cfg) == held
    finally:
        sim.stop()
