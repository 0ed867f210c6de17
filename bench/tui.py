"""Console benchmarks: first paint with 100,000 tickets, terminal bytes per second under live
changes, key-press latency. Prints the figures next to their targets.

    /tmp/venv/bin/python bench/tui.py [--tickets 100000] [--seconds 10] [--db PATH]

The store is built once (about a minute for 100k tickets) and kept at --db for later runs. The
bytes and latency figures run the real ``deskwatch tui`` on a pseudo-terminal at 80x24 with
TERM=xterm-256color (what an SSH session gets) and count what it writes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import random
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deskwatch.core.model import Decision, Message, Organization, Person, Route, Signal, SlaStatus, SlaTarget, Ticket
from deskwatch.core.store import QueueFilter, Store

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SOURCES = (("zendesk", "email"), ("zendesk", "chat"), ("freshdesk", "web"), ("freshdesk", "email"), ("salesforce", "phone"))
SUBJECTS = ("Charged twice for the annual plan", "Production API returns 500", "Cannot log in after the update",
            "Export to CSV times out", "Refund not received", "Dashboards not loading", "GDPR deletion request",
            "Webhook deliveries delayed", "SSO login loop", "Invoice shows the wrong VAT number")
TEAMS = ("billing", "platform", "identity", "data", "legal")


def make_ticket(i: int, rng: random.Random) -> Ticket:
    source, channel = SOURCES[i % len(SOURCES)]
    created = NOW - timedelta(minutes=rng.randrange(10, 60 * 24 * 5))
    org = f"Customer {i % 5000}"
    return Ticket(
        id=f"{source}:{i}", source=source, channel=channel, subject=f"{SUBJECTS[i % len(SUBJECTS)]} (#{i})", status="open",
        priority=rng.choice(("low", "normal", "high")), created_at=created, updated_at=created + timedelta(minutes=5),
        messages=(Message("customer", created, "Hello, this is still broken and we are losing money.", True, f"c{i}"),),
        requester=Person(id=f"c{i}", email=f"user{i}@customer{i % 5000}.example", name=f"User {i}"),
        organization=Organization(id=f"o{i % 5000}", name=org, annual_value=float(rng.randrange(1, 400) * 1000)),
        group=rng.choice(TEAMS).title(),
    )


def make_decision(t: Ticket, rng: random.Random, at: datetime) -> Decision:
    score = rng.uniform(5, 99)
    rec = "immediate" if score > 90 else "priority" if score > 70 else "monitor" if score > 40 else "none"
    due = at + timedelta(minutes=rng.randrange(-120, 600))
    state = "breached" if due < at else "warning" if due < at + timedelta(minutes=30) else "ok"
    team = rng.choice(TEAMS)
    return Decision(
        t.id, round(score, 1), rec, "tier2" if score > 70 else "tier1", team, rng.uniform(0.3, 1.0), score < 20, 
        (Signal("sentiment", 0.5, 20, 10.0, ("losing money",), "frustrated"),), ("bench",), at,
        SlaStatus("standard", (SlaTarget("first_response", due, 50.0, state, True, 60),)), Route("tier2", team, None, False, 0, "bench"),
    )


def build_store(path: Path, n: int) -> None:
    if path.exists():
        with Store(path) as s:
            if s.ticket_count(open_only=True) >= n:
                return
        path.unlink()
    rng = random.Random(7)
    t0 = time.perf_counter()
    with Store(path) as store:
        page: list[Ticket] = []
        for i in range(n):
            page.append(make_ticket(i, rng))
            if len(page) == 1000 or i == n - 1:
                by_source: dict[str, list[Ticket]] = {}
                for t in page:
                    by_source.setdefault(t.source, []).append(t)
                for source, tickets in by_source.items():
                    store.save_page(source, tickets, (), None, now=NOW)
                with store.transaction():
                    for t in page:
                        store.record_decision(make_decision(t, rng, NOW))
                page = []
        store.record_sync_ok("zendesk", NOW)
    print(f"  built a store with {n:,} tickets in {time.perf_counter() - t0:.0f} s ({path})", file=sys.stderr)


def first_paint(path: Path, max_rows: int) -> tuple[float, float, int]:
    """Headless at 80x24: seconds from creating the app to the first frame of the queue with
    rows in it, seconds until the whole window (``max_rows``) is loaded and idle, rows shown."""
    from deskwatch.tui.app import DeskwatchApp
    from deskwatch.tui.context import Console
    from deskwatch.tui.widgets.queue_table import QueueTable

    painted: list[float] = []
    original = QueueTable.render_lines

    def render_lines(self, crop):
        if not painted and self.row_count:
            painted.append(time.perf_counter())
        return original(self, crop)

    async def go() -> tuple[float, float, int]:
        store = Store(path)
        t0 = time.perf_counter()
        app = DeskwatchApp(Console(store=store, actor="bench", clock=lambda: NOW, refresh_interval=60, max_rows=max_rows))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            loaded = time.perf_counter() - t0
            rows = app.screen.query_one(QueueTable).row_count
        store.close()
        return painted[0] - t0, loaded, rows

    QueueTable.render_lines = render_lines  # type: ignore[method-assign]
    try:
        return asyncio.run(go())
    finally:
        QueueTable.render_lines = original  # type: ignore[method-assign]


class PtyConsole:
    """``deskwatch tui`` on a pty at 80x24; counts the bytes it writes."""

    def __init__(self, config: Path):
        import fcntl
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR", "TEXTUAL_COLOR_SYSTEM")}
        env.update(TERM="xterm-256color", DESKWATCH_ACTOR="bench")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from deskwatch.core.cli import main; sys.exit(main(sys.argv[1:]))", "tui", "--config", str(config)],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )
        os.close(slave)
        self.bytes = 0

    def read(self, timeout: float) -> bytes:
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return b""
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return b""
        self.bytes += len(data)
        return data

    def drain(self, seconds: float) -> bytes:
        end = time.monotonic() + seconds
        out = b""
        while (left := end - time.monotonic()) > 0:
            out += self.read(left)
        return out

    def wait_for(self, needle: bytes, timeout: float = 30.0) -> float:
        t0 = time.monotonic()
        seen = b""
        while needle not in seen:
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"no {needle!r} from the console in {timeout} s")
            seen += self.read(0.5)
        return time.monotonic() - t0

    def close(self) -> None:
        os.write(self.master, b"q")
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def churn(path: Path, per_second: int, stop: threading.Event) -> None:
    """The daemon's side: ``per_second`` tickets re-decided each second, half of them among the
    rows on screen (the worst case for the console), the rest anywhere in the top 2,000."""
    rng = random.Random(11)
    with Store(path) as store:
        top = [r.ticket_id for r in store.queue(QueueFilter(), limit=2000)]
        while not stop.is_set():
            t0 = time.monotonic()
            with store.transaction():
                for k in range(per_second):
                    tid = rng.choice(top[:20] if k % 2 == 0 else top)
                    latest = store.latest_decision(tid)
                    store.record_decision(replace(latest, score=max(0.0, min(100.0, latest.score + rng.uniform(-0.4, 0.4))),
                                                  decided_at=datetime.now(timezone.utc)))
            stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))


def terminal_figures(path: Path, seconds: float) -> tuple[float, float, list[float]]:
    """(startup seconds to the first queue frame, steady bytes/s under churn, key latencies in ms)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.toml"
        cfg.write_text(f'[store]\npath = "{path}"\n\n[tui]\nrefresh_interval = 1.0\nmax_rows = 2000\n')
        console = PtyConsole(cfg)
        try:
            startup = console.wait_for(b" open")
            console.drain(2.0)  # settle
            stop = threading.Event()
            writer = threading.Thread(target=churn, args=(path, 10, stop), daemon=True)
            writer.start()
            console.drain(2.0)  # warm-up under churn
            before = console.bytes
            console.drain(seconds)
            rate = (console.bytes - before) / seconds
            stop.set()
            writer.join()
            console.drain(1.5)
            latencies = []
            for i in range(20):
                console.drain(0.15)
                t0 = time.perf_counter()
                os.write(console.master, b"j" if i % 2 == 0 else b"k")
                if console.read(2.0):
                    latencies.append((time.perf_counter() - t0) * 1000)
            return startup, rate, latencies
        finally:
            console.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=10.0, help="how long to count bytes under churn")
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "deskwatch-bench-tui.db")
    ap.add_argument("--max-rows", type=int, default=2000, help="tui.max_rows (the rows the console loads)")
    args = ap.parse_args()
    build_store(args.db, args.tickets)
    paint, loaded, rows = first_paint(args.db, args.max_rows)
    startup, rate, lat = terminal_figures(args.db, args.seconds)
    print(f"tickets in the store            {args.tickets:,} (console window: {rows:,} rows)")
    print(f"first paint of the queue        {paint:.2f} s (headless, app created -> first frame with rows)  (target < 1 s)")
    print(f"                                {loaded:.2f} s until all {rows:,} rows are loaded and idle")
    print(f"                                {startup:.2f} s from process start (Python, imports, config) on a pty")
    print(f"terminal bytes at 80x24         {rate / 1000:.1f} KB/s while 10 tickets change per second  (target < 10 KB/s)")
    if lat:
        print(f"key press to screen update      median {statistics.median(lat):.0f} ms, max {max(lat):.0f} ms over {len(lat)} presses  (target < 50 ms)")
    else:
        print("key press to screen update      no update seen")
    return 0


if __name__ == "__main__":
    sys.exit(main())
