"""Soak: the daemon against a faulty simulator with write-back on, killed at random moments.
Prints what the promises come to: tickets lost, updates applied more than once, bookmarks
moved backwards, landed updates marked failed. Target: 0 / 0 / 0 / 0 on every helpdesk.

    python bench/soak.py                  # 20 SIGKILLs, all three helpdesks
    python bench/soak.py --kills 3        # a short run (the test suite runs one like it)
    python bench/soak.py --helpdesks salesforce --kills 40 --seed 3

What it does: the three simulated helpdesks run in this process with faults on (5xx errors,
429 bursts, dropped connections, 200s cut short, and writes that land but whose answer is lost),
new tickets keep arriving, and `deskwatch daemon` runs as a subprocess. It is SIGKILLed after a
random 0.3-3 s, N times, restarted each time; the bookmarks are read after every kill. Then one
SIGTERM mid-work (no outbox item may be left 'sending'), and a last run until caught up.

Verified against the simulator's record (every write it applied):
- lost: tickets the helpdesk holds that are not in the store;
- dup writes: field writes beyond one per outbox item of the ticket (each item writes its
  fields at most once: 97 PATCHes for 87 updates was the bug this catches);
- dup notes: a note marker the helpdesk received more than once;
- bookmarks backwards: any bookmark time that went back between two reads;
- failed landed: outbox items given up on although their marker reached the helpdesk;
  undrained: items still pending/sending/retrying at the end.
Columns: tickets, lost | outbox items, field writes, duplicate writes | notes, duplicate notes
| bookmark changes, moves back | given up, of which landed | undrained | answers lost (writes the
simulator applied and then dropped the answer to: the cases the marker has to settle).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from deskwatch.core import config
from deskwatch.core.connect.kit import marker_tag
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.runner import HELPDESKS, Simulator, parse

MARKER = re.compile(r"dw-[0-9a-z]{12}")
FAULTS = {"error_rate": 0.05, "burst_429_rate": 0.02, "burst_length": 2, "drop_rate": 0.02,
          "malformed_rate": 0.03, "lost_rate": 0.1}
FIELD_WRITES = ("update", "bulk_update")


@dataclass
class Figures:
    """One helpdesk's results."""

    helpdesk: str
    lost_answers: int = 0  # writes the simulator applied and then dropped the answer to
    tickets: int = 0
    lost: int = 0
    items: int = 0
    field_writes: int = 0
    dup_writes: int = 0
    notes: int = 0
    dup_notes: int = 0
    bookmark_changes: int = 0
    backwards: int = 0
    failed_landed: int = 0
    failed: int = 0
    undrained: int = 0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.dup_writes or self.dup_notes or self.backwards or self.failed_landed or self.undrained)


@dataclass
class Soak:
    """A run's figures per helpdesk plus what the stops showed."""

    kills: int
    figures: dict[str, Figures] = field(default_factory=dict)
    left_sending_after_sigterm: int = 0
    sigterm_exit: int | None = None
    sigterm_seconds: float = 0.0
    caught_up: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.caught_up and self.sigterm_exit == 0 and self.left_sending_after_sigterm == 0
                and all(f.ok for f in self.figures.values()))


# -- bookmarks -----------------------------------------------------------------------------------
def bookmark_times(bookmark: Any) -> dict[str, float]:
    """The positions a bookmark holds, each as a number that must never go down: Zendesk's
    cursor starts with the epoch second it stands at; the others hold ISO times under
    ``since``/``deleted_since`` keys."""
    out: dict[str, float] = {}
    if isinstance(bookmark, dict) and isinstance(bookmark.get("cursor"), str):
        try:
            head = base64.b64decode(bookmark["cursor"] + "==").decode("utf-8", "replace").split("|")[0]
            out["cursor"] = float(head)
        except (ValueError, TypeError):
            pass

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k in ("since", "deleted_since") and isinstance(v, str):
                    try:
                        out[f"{path}/{k}"] = datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
                    except ValueError:
                        pass
                else:
                    walk(v, f"{path}/{k}")

    walk(bookmark, "")
    return out


def read_bookmarks(db: Path) -> dict[str, Any]:
    if not db.exists():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        try:
            return {s: json.loads(v) for s, v in conn.execute("SELECT source, value FROM bookmarks")}
        except sqlite3.OperationalError:  # the schema is not there yet
            return {}


def count_backwards(history: list[dict[str, Any]], helpdesk: str) -> tuple[int, int]:
    """(changes, moves back) of one source's bookmark over the reads in ``history``."""
    changes = back = 0
    last: dict[str, float] = {}
    prev: Any = None
    for snap in history:
        b = snap.get(helpdesk)
        if b is None:
            continue
        if prev is not None and b != prev:
            changes += 1
        prev = b
        for k, t in bookmark_times(b).items():
            if k in last and t < last[k]:
                back += 1
            last[k] = max(t, last.get(k, t))
    return changes, back


# -- the run -------------------------------------------------------------------------------------
def simulator(helpdesks: tuple[str, ...], seed: int, backlog: int, rate: float) -> Simulator:
    data: dict[str, Any] = {"seed": seed, "backlog": backlog, "backlog_hours": 6.0, "rate_limits": False,
                            "rate_per_minute": rate}
    for h in HELPDESKS:
        data[h] = {**FAULTS, "enabled": h in helpdesks}
    return Simulator(parse(Section(data, "simulator"))).start()


def write_config(sim: Simulator, folder: Path) -> Path:
    data = config.default_data()
    data["store"] = {"path": str(folder / "deskwatch.db")}
    data["daemon"]["heartbeat_interval"] = 0.5
    data["daemon"]["shutdown_timeout"] = 5.0
    sources = sim.sources_config(write_back=True, poll_interval=0.3)
    for name in ("zendesk", "freshdesk"):
        if name in sources:
            sources[name]["page_size"] = 10  # many pages: kills land between them
    data["sources"] = sources
    path = folder / "soak.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def spawn(path: Path, log: Path) -> subprocess.Popen:
    with log.open("a") as err:
        return subprocess.Popen([sys.executable, "-m", "deskwatch.core.cli", "daemon", "--config", str(path)],
                                stdout=subprocess.DEVNULL, stderr=err)


def store_counts(db: Path) -> tuple[Counter, Counter, int]:
    """(tickets per source, outbox items not settled per source, items 'sending')."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        tickets = Counter(dict(conn.execute("SELECT source, COUNT(*) FROM tickets WHERE deleted = 0 GROUP BY source")))
        open_items = Counter(dict(conn.execute(
            "SELECT source, COUNT(*) FROM outbox WHERE state IN ('pending', 'sending') "
            "OR state = 'failed' AND retry_at IS NOT NULL GROUP BY source")))
        sending = conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sending'").fetchone()[0]
    return tickets, open_items, sending


def wait_for_heartbeat(db: Path, pid: int, limit: float) -> bool:
    """Wait until the daemon ``pid`` has started (its first heartbeat is in the store), so a
    SIGTERM reaches its handler rather than Python's default."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
                row = conn.execute("SELECT pid FROM heartbeat WHERE id = 1").fetchone()
            if row and row[0] == pid:
                return True
        except sqlite3.OperationalError:
            pass
        time.sleep(0.1)
    return False


def expected_tickets(sim: Simulator, helpdesk: str) -> int:
    return sum(1 for c in sim.world.for_helpdesk(helpdesk) if not c.deleted)


def caught_up(sim: Simulator, db: Path) -> bool:
    if not db.exists():
        return False
    try:
        tickets, open_items, _ = store_counts(db)
    except sqlite3.OperationalError:
        return False
    return all(tickets.get(h, 0) >= expected_tickets(sim, h) and not open_items.get(h) for h in sim.apps)


def run(kills: int = 20, helpdesks: tuple[str, ...] = HELPDESKS, seed: int = 7, backlog: int = 90,
        rate: float = 30.0, folder: Path | None = None, settle_seconds: float = 240.0,
        min_life: float = 0.3, max_life: float = 3.0, echo: bool = False) -> Soak:
    """Run the soak and return its figures (``echo`` prints progress)."""
    started = time.monotonic()
    folder = folder or Path(tempfile.mkdtemp(prefix="deskwatch-soak-"))
    rng = random.Random(seed)
    sim = simulator(helpdesks, seed, backlog, rate)
    soak = Soak(kills)
    try:
        path = write_config(sim, folder)
        db, log = folder / "deskwatch.db", folder / "daemon.log"
        history: list[dict[str, Any]] = []
        for n in range(kills):
            proc = spawn(path, log)
            time.sleep(rng.uniform(min_life, max_life))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            history.append(read_bookmarks(db))
            if echo:
                print(f"kill {n + 1}/{kills}: bookmarks {sorted(history[-1])}", flush=True)
        # One stop mid-work: nothing may be left 'sending' for the next start.
        proc = spawn(path, log)
        running = wait_for_heartbeat(db, proc.pid, 30.0)
        time.sleep(rng.uniform(0.3, 1.5) if running else 0)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        soak.sigterm_exit = proc.wait(30)
        soak.sigterm_seconds = time.monotonic() - t0
        soak.left_sending_after_sigterm = store_counts(db)[2] if db.exists() else 0
        history.append(read_bookmarks(db))
        # The last run: no new tickets from here, so "caught up" is a fixed target.
        sim.world.rate = 0.0
        proc = spawn(path, log)
        deadline = time.monotonic() + settle_seconds
        try:
            while time.monotonic() < deadline and not soak.caught_up:
                time.sleep(0.5)
                history.append(read_bookmarks(db))
                soak.caught_up = caught_up(sim, db)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        history.append(read_bookmarks(db))
        soak.figures = verify(sim, db, history)
    finally:
        sim.stop()
    soak.seconds = time.monotonic() - started
    return soak


# -- verification --------------------------------------------------------------------------------
def verify(sim: Simulator, db: Path, history: list[dict[str, Any]]) -> dict[str, Figures]:
    """Compare the store with the simulator's record of every write it applied."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        items = list(conn.execute("SELECT key, ticket_id, source, state, retry_at FROM outbox"))
        tickets = Counter(dict(conn.execute("SELECT source, COUNT(*) FROM tickets WHERE deleted = 0 GROUP BY source")))
    out: dict[str, Figures] = {}
    for h in sim.apps:
        f = Figures(h)
        f.tickets = tickets.get(h, 0)
        f.lost_answers = sim.recorder.lost.get(h, 0)
        f.lost = max(0, expected_tickets(sim, h) - f.tickets)
        records = sim.recorder.for_helpdesk(h)
        mine = [i for i in items if i["source"] == h]
        f.items = len(mine)
        per_ticket_items = Counter(i["ticket_id"] for i in mine)
        writes = Counter(f"{h}:{r.ticket_id}" for r in records if r.kind in FIELD_WRITES)
        f.field_writes = sum(writes.values())
        f.dup_writes = sum(max(0, n - per_ticket_items.get(t, 0)) for t, n in writes.items())
        notes = note_markers(h, records)
        f.notes = len(notes)
        f.dup_notes = sum(n - 1 for n in notes.values() if n > 1)
        f.bookmark_changes, f.backwards = count_backwards(history, h)
        landed = {m for r in records for m in MARKER.findall(json.dumps(r.payload))}
        given_up = [i for i in mine if i["state"] == "failed" and i["retry_at"] is None]
        f.failed = len(given_up)
        f.failed_landed = sum(1 for i in given_up if marker_tag(i["key"]) in landed)
        f.undrained = sum(1 for i in mine if i["state"] in ("pending", "sending")
                          or i["state"] == "failed" and i["retry_at"] is not None)
        out[h] = f
    return out


def note_markers(helpdesk: str, records: list) -> Counter:
    """(ticket, marker) of every private note the helpdesk received, counted."""
    seen: Counter = Counter()
    for r in records:
        if helpdesk == "zendesk":
            comment = r.payload.get("comment") if r.kind == "update" else None
            text = json.dumps(comment) if comment else ""
        else:
            text = json.dumps(r.payload) if r.kind == "note" else ""
        for m in set(MARKER.findall(text)):
            seen[(r.ticket_id, m)] += 1
    return seen


def report(soak: Soak) -> str:
    lines = [f"soak: {soak.kills} SIGKILLs, then a SIGTERM (exit {soak.sigterm_exit} in {soak.sigterm_seconds:.1f} s, "
             f"{soak.left_sending_after_sigterm} left sending) and a last run ({'caught up' if soak.caught_up else 'NOT caught up'}); "
             f"{soak.seconds:.0f} s",
             f"{'helpdesk':<11} {'tickets':>8} {'lost':>5} {'items':>6} {'writes':>7} {'dup':>4} {'notes':>6} {'dup':>4} "
             f"{'bm chg':>7} {'back':>5} {'failed':>7} {'landed':>7} {'undrained':>9} {'answers lost':>12}"]
    for f in soak.figures.values():
        lines.append(f"{f.helpdesk:<11} {f.tickets:>8} {f.lost:>5} {f.items:>6} {f.field_writes:>7} {f.dup_writes:>4} "
                     f"{f.notes:>6} {f.dup_notes:>4} {f.bookmark_changes:>7} {f.backwards:>5} {f.failed:>7} "
                     f"{f.failed_landed:>7} {f.undrained:>9} {f.lost_answers:>12}")
    total = lambda a: sum(getattr(f, a) for f in soak.figures.values())  # noqa: E731
    lines.append(f"lost / applied twice (writes+notes) / bookmarks backwards / landed-but-failed: "
                 f"{total('lost')} / {total('dup_writes') + total('dup_notes')} / {total('backwards')} / {total('failed_landed')}"
                 f"  -> {'OK' if soak.ok else 'FAILED'}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20, help="SIGKILLs (default 20)")
    ap.add_argument("--helpdesks", default=",".join(HELPDESKS), help="comma-separated (default: all three)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--backlog", type=int, default=90, help="tickets before the start (default 90)")
    ap.add_argument("--rate", type=float, default=30.0, help="new tickets per minute during the kills (default 30)")
    ap.add_argument("--folder", type=Path, help="where the store and daemon.log go (default: a temporary folder)")
    ap.add_argument("--settle-seconds", type=float, default=240.0, help="limit for the last run to catch up")
    args = ap.parse_args()
    chosen = tuple(h.strip() for h in args.helpdesks.split(",") if h.strip())
    unknown = [h for h in chosen if h not in HELPDESKS]
    if unknown or not chosen:
        ap.error(f"--helpdesks: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(HELPDESKS)}")
    if args.kills < 0:
        ap.error("--kills: 0 or more")
    soak = run(args.kills, chosen, args.seed, args.backlog, args.rate, args.folder, args.settle_seconds, echo=True)
    print(report(soak))
    return 0 if soak.ok else 1


if __name__ == "__main__":
    sys.exit(main())
