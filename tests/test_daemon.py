"""End to end: the simulator, the real connectors and the daemon, with faults on.

What must hold: every generated ticket ends up in the store, every intended update reaches the
helpdesk exactly once, and a daemon killed mid-sync (SIGKILL) loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import tomli_w

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.cli.commands.daemon import build
from deskwatch.core.model.settings import Section
from deskwatch.core.model.timeutil import parse_time, utcnow
from deskwatch.core.simulator.runner import Simulator, parse
from deskwatch.core.store import QueueFilter, open_store
from deskwatch.core.daemon.sync import Daemon

MARKER = re.compile(r"dw-[0-9a-f]{12}")


def simulator(**overrides) -> Simulator:
    data = {"seed": 21, "backlog": 45, "backlog_hours": 6.0, "rate_limits": False, "rate_per_minute": 0.0, **overrides}
    return Simulator(parse(Section(data, "simulator"))).start()


def daemon_config(sim: Simulator, folder: Path, **source_overrides) -> dict:
    data = config.default_data()
    data["store"] = {"path": str(folder / "deskwatch.db")}
    data["daemon"]["heartbeat_interval"] = 0.2
    data["daemon"]["shutdown_timeout"] = 5.0
    sources = sim.sources_config(write_back=True, poll_interval=0.2)
    for name, extra in source_overrides.items():
        sources[name].update(extra)
    data["sources"] = sources
    return data


def note_markers(sim: Simulator) -> Counter:
    """(helpdesk, ticket, marker) of every private note the helpdesks received."""
    seen: Counter = Counter()
    for u in sim.recorder.updates:
        text = json.dumps(u.payload.get("comment") or {}) if u.helpdesk == "zendesk" else json.dumps(u.payload)
        if u.kind in ("note", "update") and ("comment" in u.payload or u.kind == "note"):
            for m in set(MARKER.findall(text)):
                seen[(u.helpdesk, u.ticket_id, m)] += 1
    return seen


def sync_until_caught_up(cfg: config.Config, sim: Simulator, rounds: int = 12) -> None:
    for _ in range(rounds):
        store, connectors = build(cfg)
        try:
            asyncio.run(Daemon(cfg, store, connectors).run(once=True))
            visible = sum(len(sim.world.for_helpdesk(h)) for h in sim.apps)
            if store.ticket_count() >= visible and store.outbox_depth() == 0:
                return
            # An update the faults refused a few times backs off; a --once run leaves it for later,
            # so wait (at most 45 s) until the first one is due again, as the next poll would.
            due = store.read("SELECT MIN(retry_at) FROM outbox WHERE state != 'applied' AND retry_at IS NOT NULL")[0][0]
            if due:
                time.sleep(min(45.0, max(0.0, (parse_time(due) - utcnow()).total_seconds() + 0.5)))
        finally:
            store.close()


def test_faulty_helpdesks_lose_nothing_and_apply_each_update_once(tmp_path):
    faults = {"error_rate": 0.05, "burst_429_rate": 0.02, "burst_length": 2, "drop_rate": 0.02, "malformed_rate": 0.02}
    sim = simulator(zendesk=faults, freshdesk=faults, salesforce=faults)
    try:
        cfg = config.parse_data(daemon_config(sim, tmp_path), "test")
        sync_until_caught_up(cfg, sim)
        store = open_store(cfg)
        try:
            for h in sim.apps:
                expected = {c.key for c in sim.world.for_helpdesk(h)}
                stored = [t for t in store.queue(QueueFilter(include_closed=True), limit=10_000) if t.source == h]
                assert len(stored) == len(expected), f"{h}: {len(stored)} stored of {len(expected)}"
            assert store.outbox_depth() == 0
            applied = [i for t in store.queue(QueueFilter(include_closed=True), limit=10_000) for i in store.outbox_for(t.ticket_id)]
            assert applied, "the simulated stream always has tickets that escalate"
            assert all(i.state == "applied" for i in applied), [i.summary for i in applied if i.state != "applied"]
        finally:
            store.close()
        notes = note_markers(sim)
        assert notes and max(notes.values()) == 1, [k for k, v in notes.items() if v > 1]
    finally:
        sim.stop()


def test_status_and_queue_commands_read_the_store(tmp_path, capsys):
    sim = simulator(backlog=12)
    try:
        data = daemon_config(sim, tmp_path)
        path = tmp_path / "c.toml"
        path.write_text(tomli_w.dumps(data))
        sync_until_caught_up(config.load(path), sim, rounds=4)
        capsys.readouterr()
        assert main(["status", "--json", "--config", str(path)]) == 0
        st = json.loads(capsys.readouterr().out)
        assert {s["name"] for s in st["sources"]} == {"zendesk", "freshdesk", "salesforce"}
        assert all(s["last_success"] and s["last_error"] is None for s in st["sources"])
        assert st["daemon"]["alive"] is False  # --once runs have ended
        assert main(["queue", "--json", "--limit", "5", "--config", str(path)]) == 0
        rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert len(rows) == 5
        rank = ["none", "monitor", "priority", "immediate"]
        keys = [(rank.index(r["recommendation"]), r["score"]) for r in rows]
        assert keys == sorted(keys, reverse=True)
    finally:
        sim.stop()


def _spawn(path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "deskwatch.core.cli", "daemon", "--config", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigkill_mid_sync_then_restart_loses_and_duplicates_nothing(tmp_path):
    slow = {"slow_rate": 0.5, "slow_seconds": 0.05}
    sim = simulator(backlog=120, zendesk=slow, freshdesk=slow, salesforce=slow)
    try:
        data = daemon_config(sim, tmp_path, zendesk={"page_size": 10}, freshdesk={"page_size": 10})
        path = tmp_path / "c.toml"
        path.write_text(tomli_w.dumps(data))
        proc = _spawn(path)
        db = tmp_path / "deskwatch.db"
        deadline = time.monotonic() + 60
        # Kill it once it has committed some pages but cannot have finished.
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if db.exists():
                store = open_store(config.load(path))
                n = store.ticket_count()
                store.close()
                if n >= 20:
                    break
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        visible = sum(len(sim.world.for_helpdesk(h)) for h in sim.apps)
        store = open_store(config.load(path))
        partial = store.ticket_count()
        store.close()
        assert 0 < partial < visible, "the kill should land mid-sync"
        sync_until_caught_up(config.load(path), sim)
        store = open_store(config.load(path))
        try:
            assert store.ticket_count() == visible
            assert store.outbox_depth() == 0
        finally:
            store.close()
        notes = note_markers(sim)
        assert max(notes.values()) == 1
    finally:
        sim.stop()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_cleanly_with_exit_code_0(tmp_path):
    sim = simulator(backlog=20)
    try:
        path = tmp_path / "c.toml"
        path.write_text(tomli_w.dumps(daemon_config(sim, tmp_path)))
        proc = _spawn(path)
        db = tmp_path / "deskwatch.db"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not db.exists():
            time.sleep(0.1)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "daemon stopped" in err
    finally:
        sim.stop()


def test_daemon_without_sources_explains_the_fix(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "d.db"}"\n')
    assert main(["daemon", "--once", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no enabled [sources.<name>]" in err and "deskwatch demo" in err


def test_secrets_never_reach_logs_or_store(tmp_path, monkeypatch, capsys):
    sim = simulator(backlog=5)
    try:
        monkeypatch.setenv("DW_TEST_ZD_TOKEN", "sim-zendesk-token")
        data = daemon_config(sim, tmp_path)
        data["sources"]["zendesk"]["token"] = "${DW_TEST_ZD_TOKEN}"
        data["sources"]["freshdesk"]["api_key"] = "wrong-key-123456"
        path = tmp_path / "c.toml"
        path.write_text(tomli_w.dumps(data))
        assert main(["daemon", "--once", "--config", str(path)]) == 1  # freshdesk refuses the key
        captured = capsys.readouterr()
        blob = captured.err.encode() + captured.out.encode()
        for f in tmp_path.glob("deskwatch.db*"):  # the WAL holds recent writes
            blob += f.read_bytes()
        for secret in (b"sim-zendesk-token", b"wrong-key-123456", b"sim-client-secret"):
            assert secret not in blob
        assert b"freshdesk" in captured.err.encode()
    finally:
        sim.stop()


def test_the_echo_of_its_own_write_back_brings_no_second_handoff_note(tmp_path):
    """Write back once: after the daemon's updates reach the helpdesks, the next syncs read the
    tickets back changed (priority, group, assignee, tags, notes). That alone must not produce
    another handoff note; only something new may (core/daemon/writeback.py)."""
    from deskwatch.core.daemon.handoffs import count_handoffs

    sim = simulator()
    try:
        cfg = config.parse_data(daemon_config(sim, tmp_path), "test")
        sync_until_caught_up(cfg, sim)
        for _ in range(3):  # the echoes of what was written come back in these syncs
            store, connectors = build(cfg)
            try:
                asyncio.run(Daemon(cfg, store, connectors).run(once=True))
            finally:
                store.close()
        store = open_store(cfg)
        try:
            count = count_handoffs(store)
            echoed = [t.ticket_id for t in store.queue(QueueFilter(include_closed=True), limit=10_000)
                      if any(i.state == "applied" for i in store.outbox_for(t.ticket_id))]
            # A second note is only for a ticket the customer wrote to again after the first.
            wrote_again = set()
            notes = store.outbox_notes("deskwatch escalated this ticket:")
            for tid in echoed:
                first = min((i.created_at for i in notes if i.ticket_id == tid), default=None)
                t = store.get_ticket(tid)
                if first is not None and any(m.created_at > first for m in t.customer_messages):
                    wrote_again.add(tid)
        finally:
            store.close()
        assert count.tickets > 0 and echoed, "the simulated stream always has tickets that escalate"
        assert count.repeated == (), count.summary()
        assert count.again <= len(wrote_again), count.summary()
    finally:
        sim.stop()
