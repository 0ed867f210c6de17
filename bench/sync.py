"""Sync throughput and memory of the daemon against the simulator. Prints its figures.

    python bench/sync.py                      # all three parts
    python bench/sync.py --part ingest --tickets 3000
    python bench/sync.py --part limits --seconds 150
    python bench/sync.py --part rss --rss-tickets 100000
    python bench/sync.py --part cost --tickets 5000
    python bench/sync.py --part latency --latency-seconds 420

1. ingest: tickets/s from empty store to caught up, rate limits off (three helpdesks at once).
2. limits: the simulator's documented limits on (Zendesk 700/min, Freshdesk 400/min); achieved
   request rate while limit-bound, as a fraction of the limit (after the first minute, whose
   window starts empty). Salesforce fetches up to 2,000 cases per request, so it is never
   limit-bound on reads and is reported separately.
3. cost: requests (Freshdesk: credits) per ticket for a backfill of N tickets, SOLVED of them
   solved and last changed over an hour ago, and for steady state (a sync of what changed
   since), per helpdesk, with the connectors' default settings. Targets for a backfill:
   Zendesk at most 0.15 requests per ticket, Freshdesk at most 0.2 credits per ticket.
4. latency: wall time from a customer message arriving in the (simulated) helpdesk to
   deskwatch's update of that ticket landing there, median and p95 per helpdesk, with the
   documented limits on (so Zendesk's one-minute export hold-back counts), write-back on, the
   daemon running continuously at the simulator's poll interval; and what steady state costs
   per customer message (requests; Freshdesk credits). Messages whose ticket got no update
   before the next message (the decision did not change) are counted, not timed.
5. rss: peak resident memory of a `deskwatch daemon --once` process after syncing N tickets
   (the simulator runs in this process, so its memory is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w

from deskwatch.core import config

from deskwatch.core.daemon import logs
from deskwatch.core.cli.commands.daemon import build
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.runner import DOCUMENTED_LIMITS, Simulator, parse
from deskwatch.core.daemon.sync import Daemon


def sim_for(backlog: int, limits: bool, helpdesks=("zendesk", "freshdesk", "salesforce")) -> Simulator:
    data = {"seed": 5, "backlog": backlog, "backlog_hours": 72.0, "rate_per_minute": 0.0, "rate_limits": limits}
    for h in ("zendesk", "freshdesk", "salesforce"):
        data[h] = {"enabled": h in helpdesks}
    return Simulator(parse(Section(data, "simulator"))).start()


def cfg_data(sim: Simulator, folder: Path) -> dict:
    data = config.default_data()
    data["store"] = {"path": str(folder / "bench.db")}
    data["daemon"]["log_level"] = "warning"
    sources = sim.sources_config(write_back=False, poll_interval=0.1)
    for name, s in sources.items():
        s["start_time"] = "2000-01-01T00:00:00Z"
        if name != "salesforce":
            s["page_size"] = 100
        else:
            s["page_size"] = 2000
    data["sources"] = sources
    return data


def run_once(cfg: config.Config) -> dict[str, int]:
    """One sync of every source; the tickets each delivered."""
    store, connectors = build(cfg)
    try:
        daemon = Daemon(cfg, store, connectors)
        asyncio.run(daemon.run(once=True))
        return {name: src.tickets for name, src in daemon.sources.items()}
    finally:
        store.close()


class SimProcess:
    """`deskwatch simulate` in its own process, so its CPU is not the daemon's (as with a real
    helpdesk); its `[sources.*]` come from the TOML it prints."""

    def __init__(self, backlog: int, limits: bool, helpdesks=("zendesk", "freshdesk", "salesforce")):
        import tomllib

        self.folder = Path(tempfile.mkdtemp())
        data = {"seed": 5, "backlog": backlog, "backlog_hours": 72.0, "rate_per_minute": 0.0, "rate_limits": limits}
        for h in ("zendesk", "freshdesk", "salesforce"):
            data[h] = {"enabled": h in helpdesks}
        cfg = self.folder / "sim.toml"
        cfg.write_text(tomli_w.dumps({"simulator": data}))
        self.proc = subprocess.Popen([sys.executable, "-m", "deskwatch.core.cli", "simulate", "--config", str(cfg)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = []
        for line in self.proc.stdout:  # the TOML ends with a blank line after the last table
            lines.append(line)
            if line.startswith("client_secret") or (line.strip() == "" and len(lines) > 8 and "salesforce" not in helpdesks):
                break
        self.sources = tomllib.loads("".join(x for x in lines if not x.startswith("#")))["sources"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def bench_cfg(sources: dict, folder: Path) -> dict:
    data = config.default_data()
    data["store"] = {"path": str(folder / "bench.db")}
    data["daemon"]["log_level"] = "warning"
    for name, s in sources.items():
        s.update(write_back=False, poll_interval=0.1, start_time="2000-01-01T00:00:00Z",
                 page_size=2000 if name == "salesforce" else 100)
    data["sources"] = sources
    return data


def ingest(tickets: int) -> None:
    sim = SimProcess(tickets, limits=False)
    with tempfile.TemporaryDirectory() as d:
        cfg = config.parse_data(bench_cfg(sim.sources, Path(d)), "bench")
        t0 = time.perf_counter()
        run_once(cfg)
        elapsed = time.perf_counter() - t0
        from deskwatch.core.store import open_store

        store = open_store(cfg)
        stored = store.ticket_count()
        store.close()
    sim.stop()
    print(f"ingest (limits off): {stored:,} tickets from 3 helpdesks in {elapsed:.1f} s "
          f"= {stored / elapsed:,.0f} tickets/s (fetch with messages, store, decide; write-back off)")


async def _limited(cfg: config.Config, sim: Simulator, seconds: float) -> dict[str, list[float]]:
    store, connectors = build(cfg)
    daemon = Daemon(cfg, store, connectors)
    served: dict[str, list[float]] = {h: [] for h in sim.apps}
    originals = {}
    for name, app in sim.apps.items():
        originals[name] = app.handle

        def wrap(req, _app=app, _name=name, _orig=app.handle):
            resp = _orig(req)
            if resp.status < 400:
                served[_name].append(time.monotonic())
            return resp

        app.handle = wrap
    task = asyncio.create_task(daemon.run())
    await asyncio.sleep(seconds)
    daemon.request_stop()
    await task
    store.close()
    for name, app in sim.apps.items():
        app.handle = originals[name]
    return served


def limits(seconds: float, backlog: int) -> None:
    sim = sim_for(backlog, limits=True)
    with tempfile.TemporaryDirectory() as d:
        cfg = config.parse_data(cfg_data(sim, Path(d)), "bench")
        start = time.monotonic()
        served = asyncio.run(_limited(cfg, sim, seconds))
    sim.stop()
    print(f"limits on ({seconds:.0f} s run; fraction measured after the first minute):")
    for name, stamps in served.items():
        limit = DOCUMENTED_LIMITS[name]
        late = [t for t in stamps if t - start >= 60]
        span = seconds - 60
        if span <= 0:
            print(f"  {name}: run longer than 60 s to measure")
            continue
        rate = len(late) / span * 60
        bound = rate >= 0.5 * limit
        frac = rate / limit
        note = "" if bound else " (not limit-bound: the sync needs fewer requests than the limit allows)"
        print(f"  {name:<10} {len(stamps)} requests served, {rate:,.0f}/min after the first minute vs limit "
              f"{limit}/min = {frac:.2f} of the limit-bound maximum{note}")


SOLVED = 0.9
COST_TARGETS = {"zendesk": 0.15, "freshdesk": 0.2}


def _settle(sim: Simulator, share: float, seed: int = 11) -> int:
    """Mark ``share`` of the world's conversations solved, as in a long-lived account."""
    import random

    rng = random.Random(seed)
    solved = 0
    for c in sim.world.conversations:
        if rng.random() < share:
            c.status = "solved"
            solved += 1
    return solved


def _spent(sim: Simulator) -> dict[str, tuple[int, int]]:
    return {h: (sim.recorder.requests.get(h, 0), sim.recorder.credits.get(h, 0)) for h in sim.apps}


def cost(tickets: int, steady_seconds: float = 5.0) -> dict[str, dict[str, float]]:
    """Requests and credits per ticket for a backfill and then one steady-state sync."""
    from deskwatch.core.store import open_store

    data = {"seed": 5, "backlog": tickets, "backlog_hours": 24.0 * 14, "rate_per_minute": 60.0, "rate_limits": False}
    sim = Simulator(parse(Section(data, "simulator"))).start()
    solved = _settle(sim, SOLVED)
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        cfg_dict = config.default_data()
        cfg_dict["store"] = {"path": str(Path(d) / "bench.db")}
        cfg_dict["daemon"]["log_level"] = "warning"
        sources = sim.sources_config(write_back=False, poll_interval=0.1)
        for s in sources.values():
            s["start_time"] = "2000-01-01T00:00:00Z"  # page sizes etc.: the connectors' defaults
        cfg_dict["sources"] = sources
        cfg = config.parse_data(cfg_dict, "bench")
        before = _spent(sim)
        run_once(cfg)
        after = _spent(sim)
        store = open_store(cfg)
        counts = dict(store._q("SELECT source, COUNT(*) FROM tickets GROUP BY source"))
        total = store.ticket_count()
        store.close()
        time.sleep(steady_seconds)  # new conversations and replies arrive meanwhile
        delivered = run_once(cfg)
        steady = _spent(sim)
    sim.stop()
    print(f"cost: backfill of {total:,} tickets ({len(sim.apps)} helpdesks, {SOLVED:.0%} solved: {solved:,} of "
          f"{len(sim.world.conversations):,} conversations), connector defaults")
    for h in sim.apps:
        n = max(1, counts.get(h, 0))
        req = after[h][0] - before[h][0]
        cred = after[h][1] - before[h][1]
        s_req, s_cred = steady[h][0] - after[h][0], steady[h][1] - after[h][1]
        unit, spent, steady_spent = ("credits", cred, s_cred) if h == "freshdesk" else ("requests", req, s_req)
        target = COST_TARGETS.get(h)
        verdict = f" (target <= {target}: {'met' if spent / n <= target else 'MISSED'})" if target else ""
        moved = delivered.get(h, 0)
        per = f" = {steady_spent / moved:.2f} {unit}/ticket" if moved else ""
        print(f"  {h:<10} backfill {spent:,} {unit} for {n:,} tickets = {spent / n:.3f} {unit}/ticket{verdict}; "
              f"steady state: {steady_spent} {unit} for {moved} changed tickets{per}")
        out[h] = {"backfill_per_ticket": spent / n, "steady": steady_spent, "steady_tickets": moved}
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _native_ids(sim: Simulator, helpdesk: str) -> dict[str, str]:
    """World conversation key -> the helpdesk's native ticket id (as the recorder names it)."""
    return {key: str(native) for key, native in getattr(sim.apps[helpdesk], "ids", {}).items()}


def latency(seconds: float, warmup: float = 60.0, tail: float = 100.0, poll: float = 2.0, rate: float = 12.0) -> dict:
    """Customer message -> deskwatch's update in the helpdesk, wall time, per helpdesk."""
    from datetime import timedelta

    from deskwatch.core.model.timeutil import utcnow

    data = {"seed": 9, "backlog": 60, "backlog_hours": 6.0, "rate_per_minute": rate, "rate_limits": True}
    sim = Simulator(parse(Section(data, "simulator"))).start()
    marks: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as d:
        cfg_dict = config.default_data()
        cfg_dict["store"] = {"path": str(Path(d) / "bench.db")}
        cfg_dict["daemon"]["log_level"] = "warning"
        sources = sim.sources_config(write_back=True, poll_interval=poll)
        for s in sources.values():
            s["start_time"] = "2000-01-01T00:00:00Z"
        cfg_dict["sources"] = sources
        cfg = config.parse_data(cfg_dict, "bench")
        store, connectors = build(cfg)
        daemon = Daemon(cfg, store, connectors)

        async def arrivals() -> None:
            # Messages arrive on the clock, not when a poll happens to ask: the world is
            # otherwise advanced lazily by the requests, which would hide the wait for a poll.
            while True:
                with sim.apps["zendesk"].lock, sim.apps["freshdesk"].lock, sim.apps["salesforce"].lock:
                    sim.world.step(utcnow())
                await asyncio.sleep(0.25)

        async def run() -> None:
            stepper = asyncio.create_task(arrivals())
            task = asyncio.create_task(daemon.run())
            await asyncio.sleep(warmup)  # the backlog is synced and written back meanwhile
            marks["from"], marks["spent"] = utcnow(), _spent(sim)
            await asyncio.sleep(seconds - warmup)
            marks["to"], marks["spent_to"] = utcnow(), _spent(sim)
            daemon.request_stop()
            await task
            stepper.cancel()

        asyncio.run(run())
        store.close()
    sim.stop()
    start, end = marks["from"], marks["to"]
    last_arrival = end - timedelta(seconds=tail)  # later messages may not have had their turn
    print(f"latency: customer message arriving -> deskwatch's update landing, wall time (simulator on the real "
          f"clock, documented limits on, daemon polling every {poll:g} s, {rate:g} new conversations/min); "
          f"messages arriving {warmup:.0f}-{seconds - tail:.0f} s into a {seconds:.0f} s run")
    out: dict[str, dict] = {}
    for h in sim.apps:
        natives = _native_ids(sim, h)
        writes: dict[str, list] = {}
        for u in sim.recorder.for_helpdesk(h):
            writes.setdefault(str(u.ticket_id), []).append(u.at)
        times, untouched, arrived = [], 0, 0
        for c in sim.world.for_helpdesk(h):
            posts = sorted(p.at for p in c.posts if p.author == "customer")
            stamps = sorted(writes.get(natives.get(c.key, ""), ()))
            for i, at in enumerate(posts):
                if not (start <= at <= last_arrival):
                    continue
                arrived += 1
                nxt = posts[i + 1] if i + 1 < len(posts) else end
                landed = next((w for w in stamps if at <= w < nxt), None)
                if landed is None:
                    untouched += 1
                else:
                    times.append((landed - at).total_seconds())
        spent = marks["spent_to"][h][1 if h == "freshdesk" else 0] - marks["spent"][h][1 if h == "freshdesk" else 0]
        unit = "credits" if h == "freshdesk" else "requests"
        minutes = (end - start).total_seconds() / 60
        per = f"{spent / minutes:.0f} {unit}/min, {spent / arrived:.1f}/message" if arrived else f"{spent / minutes:.0f} {unit}/min"
        if times:
            print(f"  {h:<10} median {_quantile(times, 0.5):5.1f} s, p95 {_quantile(times, 0.95):5.1f} s over {len(times)} "
                  f"messages ({untouched} of {arrived} got no update: decision unchanged); steady state {spent} {unit} = {per}")
        else:
            print(f"  {h:<10} no message got an update ({arrived} arrived); steady state {spent} {unit}")
        out[h] = {"median": _quantile(times, 0.5) if times else None, "p95": _quantile(times, 0.95) if times else None,
                  "timed": len(times), "arrived": arrived, "steady": spent}
    return out


def rss(n: int) -> None:
    sim = SimProcess(n, limits=False, helpdesks=("salesforce",))
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        path = folder / "bench.toml"
        path.write_text(tomli_w.dumps(bench_cfg(sim.sources, folder)))
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "deskwatch.core.cli", "daemon", "--once", "--config", str(path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the daemon, not the simulator
        from deskwatch.core.store import Store

        store = Store(folder / "bench.db")
        stored = store.ticket_count()
        store.close()
    sim.stop()
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
    print(f"rss: daemon synced {stored:,} tickets in {elapsed:.0f} s; peak RSS {peak_kb / 1024:,.0f} MB (target < 250 MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("ingest", "limits", "cost", "latency", "rss", "all"), default="all")
    ap.add_argument("--tickets", type=int, default=3000, help="backlog for the ingest part")
    ap.add_argument("--seconds", type=float, default=150.0, help="length of the limits part")
    ap.add_argument("--rss-tickets", type=int, default=100_000)
    ap.add_argument("--latency-seconds", type=float, default=420.0, help="length of the latency part (wall time)")
    ap.add_argument("--poll", type=float, default=2.0, help="the daemon's poll interval in the latency part")
    args = ap.parse_args()
    logs.setup("text", "error")
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    if args.part in ("ingest", "all"):
        ingest(args.tickets)
    if args.part in ("limits", "all"):
        limits(args.seconds, backlog=6000)
    if args.part in ("cost", "all"):
        cost(args.tickets)
    if args.part in ("latency", "all"):
        latency(args.latency_seconds, poll=args.poll)
    if args.part in ("rss", "all"):
        rss(args.rss_tickets)


if __name__ == "__main__":
    main()
