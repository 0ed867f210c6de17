"""Fleet: three `deskwatch daemon` processes on one store against the faulty simulator, one of
them SIGKILLed midway. Prints what the fleet promises come to; target 0 everywhere.

    python bench/fleet.py                          # 60 s on a SQLite store in a temporary folder
    python bench/fleet.py --store postgresql://postgres@127.0.0.1:5432/test
    python bench/fleet.py --seconds 120 --daemons 4

What it does: the simulated Zendesk, Freshdesk and Salesforce run in this process with faults
on (5xx, 429 bursts, dropped connections, bodies cut short, writes whose answer is lost), new
tickets keep arriving, and N daemons (ids fleet-1..N, 3 s leases) share the sources. Halfway
one daemon is SIGKILLed; after ``--seconds`` the arrivals stop, the survivors catch up, and
they get a SIGTERM.

Verified against the simulator's record of every write it applied and the store's record of
every lease hold:
- tickets: every simulated ticket in the store, once (missing / extra);
- updates: every outbox item applied, its marker reached the helpdesk, no field write or note
  twice (unsent / not landed / duplicates);
- leases: no two holds of a source overlap, every "synced" a daemon logged falls inside one of
  its own holds (overlaps / a sync whose fetch-and-store window lies outside its daemon's hold);
- takeover: each source the killed daemon held was taken by another daemon, and how long after
  the kill (at most a lease period plus a renewal interval).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import tomli_w

from deskwatch.core.connect.kit import marker_tag
from deskwatch.core.simulator.runner import HELPDESKS, Simulator
from deskwatch.core.store import Store

_spec = importlib.util.spec_from_file_location("bench_soak", Path(__file__).resolve().parent / "soak.py")
soak = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_soak", soak)  # dataclasses look their module up by name
_spec.loader.exec_module(soak)

LEASE = 3.0


@dataclass
class FleetRun:
    daemons: int
    seconds: float = 0.0
    tickets: dict[str, int] = field(default_factory=dict)
    missing: int = 0
    extra: int = 0
    items: int = 0
    unsent: int = 0  # outbox items not applied at the end (pending, sending, retrying or given up)
    not_landed: int = 0  # applied items whose marker the helpdesk never received
    dup_writes: int = 0
    dup_notes: int = 0
    lost_answers: int = 0
    holds: int = 0
    overlaps: int = 0
    polls: int = 0
    polls_outside: int = 0
    killed: str = ""
    killed_sources: tuple[str, ...] = ()
    taken_over: dict[str, tuple[str, float]] = field(default_factory=dict)  # source -> (by, seconds after kill)
    caught_up: bool = False
    exits: dict[str, int | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (self.caught_up and not (self.missing or self.extra or self.unsent or self.not_landed or self.dup_writes
                                        or self.dup_notes or self.overlaps or self.polls_outside)
                and bool(self.killed_sources) and set(self.taken_over) == set(self.killed_sources)
                and all(s <= LEASE + LEASE / 3 + 2.0 for _, s in self.taken_over.values())
                and all(code == 0 for name, code in self.exits.items() if name != self.killed))


def _open(where: str) -> Store:
    return Store(url=where) if "://" in where else Store(Path(where))


def _rows(store: Store, sql: str) -> list:
    return getattr(store, "read", store._q)(sql)


def write_configs(sim: Simulator, folder: Path, store: str, n: int) -> dict[str, Path]:
    data = tomli_load(soak.write_config(sim, folder))
    data["store"] = {"url": store} if "://" in store else {"path": store}
    out = {}
    for i in range(1, n + 1):
        name = f"fleet-{i}"
        data["daemon"].update({"id": name, "lease_seconds": LEASE, "heartbeat_interval": 0.5, "shutdown_timeout": 5.0})
        path = folder / f"{name}.toml"
        path.write_text(tomli_w.dumps(data))
        out[name] = path
    return out


def tomli_load(path: Path) -> dict:
    import tomllib

    return tomllib.loads(path.read_text())


def spawn(path: Path, log: Path) -> subprocess.Popen:
    with log.open("a") as err:
        return subprocess.Popen([sys.executable, "-m", "deskwatch.core.cli", "daemon", "--config", str(path),
                                 "--log-format", "json"], stdout=subprocess.DEVNULL, stderr=err)


def held(store: Store) -> dict[str, str]:
    now = datetime.now(timezone.utc)
    return {lease.source: lease.holder for lease in store.leases() if lease.held(now)}


def caught_up(sim: Simulator, store: Store) -> bool:
    tickets = Counter(dict(_rows(store, "SELECT source, COUNT(*) FROM tickets WHERE deleted = 0 GROUP BY source")))
    busy = _rows(store, "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending') "
                        "OR state = 'failed' AND retry_at IS NOT NULL")[0][0]
    return not busy and all(tickets.get(h, 0) >= soak.expected_tickets(sim, h) for h in sim.apps)


def run(seconds: float = 60.0, daemons: int = 3, store: str | None = None, folder: Path | None = None, seed: int = 11,
        backlog: int = 60, rate: float = 30.0, settle_seconds: float = 120.0, echo: bool = False) -> FleetRun:
    """Run the fleet and return its figures (``echo`` prints progress)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="deskwatch-fleet-"))
    where = store or str(folder / "deskwatch.db")
    sim = soak.simulator(HELPDESKS, seed, backlog, rate)
    result = FleetRun(daemons)
    procs: dict[str, subprocess.Popen] = {}
    started = time.monotonic()
    try:
        configs = write_configs(sim, folder, where, daemons)
        for name, path in configs.items():
            procs[name] = spawn(path, folder / f"{name}.log")
        watch = _wait_open(where)
        try:
            _wait(lambda: len(set(held(watch).values())) == daemons, 30.0)
            if echo:
                print(f"leases: {held(watch)}", flush=True)
            time.sleep(max(0.0, seconds / 2 - (time.monotonic() - started)))
            leases = held(watch)
            victim = next((d for d in reversed(procs) if d in leases.values()), list(procs)[-1])
            result.killed, result.killed_sources = victim, tuple(sorted(s for s, h in leases.items() if h == victim))
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait(10)
            killed_at = datetime.now(timezone.utc)
            result.exits[victim] = procs[victim].returncode
            if echo:
                print(f"SIGKILL {victim} holding {', '.join(result.killed_sources) or 'nothing'}", flush=True)
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
            sim.world.rate = 0.0  # no new tickets from here: "caught up" is a fixed target
            result.caught_up = _wait(lambda: caught_up(sim, watch), settle_seconds)
        finally:
            for name, p in procs.items():
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for name, p in procs.items():
                result.exits[name] = p.wait(30) if name != result.killed else result.exits.get(name)
        verify(sim, watch, folder, result, killed_at)
        watch.close()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        sim.stop()
    result.seconds = time.monotonic() - started
    return result


def _wait_open(where: str) -> Store:
    deadline = time.monotonic() + 30
    while True:
        try:
            return _open(where)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait(cond, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except Exception:  # the store is busy with the daemons' writes: look again
            pass
        time.sleep(0.5)
    return False


def verify(sim: Simulator, store: Store, folder: Path, r: FleetRun, killed_at: datetime) -> None:
    """Fill ``r`` from the simulator's record, the store and the daemons' logs."""
    tickets = Counter(dict(_rows(store, "SELECT source, COUNT(*) FROM tickets WHERE deleted = 0 GROUP BY source")))
    items = _rows(store, "SELECT key, ticket_id, source, state FROM outbox")
    for h in sim.apps:
        expected = soak.expected_tickets(sim, h)
        r.tickets[h] = tickets.get(h, 0)
        r.missing += max(0, expected - r.tickets[h])
        r.extra += max(0, r.tickets[h] - expected)
        records = sim.recorder.for_helpdesk(h)
        r.lost_answers += sim.recorder.lost.get(h, 0)
        mine = [i for i in items if i["source"] == h]
        r.items += len(mine)
        per_ticket = Counter(i["ticket_id"] for i in mine)
        writes = Counter(f"{h}:{rec.ticket_id}" for rec in records if rec.kind in soak.FIELD_WRITES)
        r.dup_writes += sum(max(0, n - per_ticket.get(t, 0)) for t, n in writes.items())
        r.dup_notes += sum(n - 1 for n in soak.note_markers(h, records).values() if n > 1)
        landed = {m for rec in records for m in soak.MARKER.findall(json.dumps(rec.payload))}
        r.unsent += sum(1 for i in mine if i["state"] != "applied")
        r.not_landed += sum(1 for i in mine if i["state"] == "applied" and marker_tag(i["key"]) not in landed)
    holds = store.lease_holds()
    r.holds = len(holds)
    by_source: dict[str, list] = {}
    for h in holds:
        by_source.setdefault(h.source, []).append(h)
    for hs in by_source.values():
        r.overlaps += sum(1 for x, y in zip(hs, hs[1:]) if x.end > y.taken_at)
    for line in _synced(folder):
        r.polls += 1
        own = [h for h in by_source.get(line["source"], []) if h.holder == line["daemon"]]
        if not any(h.taken_at <= line["from"] and line["to"] <= h.end for h in own):
            r.polls_outside += 1
    for s in r.killed_sources:
        later = [h for h in by_source.get(s, []) if h.holder != r.killed and h.taken_at >= killed_at]
        if later:
            r.taken_over[s] = (later[0].holder, (later[0].taken_at - killed_at).total_seconds())


def _synced(folder: Path) -> list[dict]:
    """Every "synced" line of every daemon's JSON log: (daemon, source, time)."""
    out = []
    for log in sorted(folder.glob("fleet-*.log")):
        for text in log.read_text().splitlines():
            try:
                rec = json.loads(text)
            except ValueError:
                continue
            if rec.get("msg", rec.get("message")) == "synced" and rec.get("source"):
                at = datetime.fromisoformat(rec["ts"].replace("Z", "+00:00"))
                # The fetch-and-store window under the lease; deciding may finish after it.
                start = datetime.fromisoformat(rec["polled_from"]) if rec.get("polled_from") else at
                end = datetime.fromisoformat(rec["polled_to"]) if rec.get("polled_to") else at
                out.append({"daemon": log.stem, "source": rec["source"], "at": at, "from": start, "to": end})
    return out


def report(r: FleetRun) -> str:
    take = ", ".join(f"{s} by {by} after {sec:.1f} s" for s, (by, sec) in sorted(r.taken_over.items())) or "none"
    return "\n".join([
        f"fleet: {r.daemons} daemons, {r.killed} SIGKILLed holding {', '.join(r.killed_sources) or 'nothing'}; "
        f"{'caught up' if r.caught_up else 'NOT caught up'}; {r.seconds:.0f} s; exits {r.exits}",
        f"tickets {sum(r.tickets.values())} {dict(r.tickets)}: missing {r.missing}, extra {r.extra}",
        f"updates {r.items}: unsent {r.unsent}, applied but not landed {r.not_landed}, duplicate writes {r.dup_writes}, "
        f"duplicate notes {r.dup_notes} (answers lost on the way: {r.lost_answers})",
        f"leases: {r.holds} holds, {r.overlaps} overlapping; {r.polls} syncs logged, {r.polls_outside} outside a hold",
        f"takeover: {take}",
        f"-> {'OK' if r.ok else 'FAILED'}",
    ])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long tickets keep arriving (default 60)")
    ap.add_argument("--daemons", type=int, default=3)
    ap.add_argument("--store", help="a PostgreSQL URL, or a SQLite file (default: a temporary SQLite file)")
    ap.add_argument("--folder", type=Path, help="where configs and daemon logs go (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    if args.daemons < 2:
        ap.error("--daemons: 2 or more (one of them is killed)")
    r = run(args.seconds, args.daemons, args.store, args.folder, args.seed, echo=True)
    print(report(r))
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
