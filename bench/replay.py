"""Benchmark: `deskwatch replay` speed, history re-decided at every customer message.

    python bench/replay.py [--tickets 100000] [--seed 7] [--orgs 200] [--days 90]

Generates tickets (bench/score.py's text, 3-6 messages each, customers and agents taking
turns) from ``--orgs`` organizations over ``--days`` days, then replays them as ``deskwatch
replay --config CANDIDATE`` does: every customer message decided as the ticket stood then,
under the active config and a candidate (the priority threshold lowered by 5 points), and the
two compared. Prints messages, decisions, CPU seconds (one core), the projection to 100,000
tickets with 500,000 messages (time grows linearly with the messages replayed; bench/history.py
shows the engine's linearity) and the peak memory (resident set), before the replay (the
generated tickets) and at the end. Target: under 5 minutes for that size. The comparison is
streamed (``replay_iter``), as ``deskwatch replay`` does: the replay adds memory for its text
caches and indexes, not for every decision.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from history import generate_orgs  # noqa: E402

from deskwatch.core import config  # noqa: E402
from deskwatch.core.config import Config  # noqa: E402
from deskwatch.core.report.replay import replay, replay_iter  # noqa: E402
from deskwatch.core.report.replay_compare import compare  # noqa: E402

TARGET_TICKETS, TARGET_MESSAGES, TARGET_SECONDS = 100_000, 500_000, 300.0


def candidate_of(cfg: Config) -> Config:
    esc = cfg.escalation
    th = replace(esc.thresholds, priority=esc.thresholds.priority - 5)
    return Config(cfg.file, {**cfg.sections, "escalation": replace(esc, thresholds=th)}, cfg.raw)


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=TARGET_TICKETS)
    ap.add_argument("--orgs", type=int, default=200)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    tickets = sorted(generate_orgs(args.tickets, args.orgs, args.days, args.seed), key=lambda t: (t.created_at, t.id))
    messages = sum(len(t.messages) for t in tickets)
    active = config.load(None)
    candidate = candidate_of(active)
    replay(tickets[:50], {"active": active})  # warm-up: lexicon, regexes
    rss_before = peak_rss_mb()
    t0 = time.process_time()
    w0 = time.perf_counter()
    cmp = compare(replay_iter(tickets, {"active": active, "candidate": candidate}), {}, "active", "candidate")
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    steps = cmp.steps
    print(f"{len(tickets)} tickets, {messages} messages ({steps} customer messages replayed under 2 configs: "
          f"{2 * steps} decisions)")
    print(f"replay + compare: {cpu:.1f} s CPU ({wall:.1f} s wall), {len(tickets) / cpu:,.0f} tickets/s, "
          f"{messages / cpu:,.0f} messages/s; {len(cmp.changes)} tickets changed")
    projected = cpu * TARGET_MESSAGES / messages
    measured = "measured" if len(tickets) >= TARGET_TICKETS and messages >= TARGET_MESSAGES else "extrapolated linearly"
    print(f"{TARGET_TICKETS:,} tickets / {TARGET_MESSAGES:,} messages: {projected:.0f} s ({measured}); "
          f"target < {TARGET_SECONDS:.0f} s: {'met' if projected < TARGET_SECONDS else 'NOT met'}")
    print(f"peak memory (RSS): {peak_rss_mb():,.0f} MB ({rss_before:,.0f} MB before the replay: "
          f"the generated tickets and the warm-up)")


if __name__ == "__main__":
    main()
