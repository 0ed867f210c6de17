"""Benchmark: deciding a batch grows linearly with it, history included.

    python bench/history.py [--sizes 5000,10000,20000] [--orgs 20] [--days 60] [--seed 7]

Generates tickets (bench/score.py's text) from ``--orgs`` organizations created over ``--days``
days, so every organization has hundreds of related tickets inside the repeat-contact window:
the case where a history lookup that scans an organization's whole batch made the cost grow
with the square of the batch. Prints, per size, ``decide_many`` tickets/s (CPU time, one core)
and a bare vaderSentiment pass over the same messages; then ``deskwatch score`` end to end (a
new process, start-up and JSON included, wall time) on an export of the largest size.
Targets: tickets/s flat across sizes (linear time), engine within 2.0x of bare VADER,
``deskwatch score`` >= 2,000 tickets/s on 20,000 tickets.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score import NOW, _timed, generate  # noqa: E402

from deskwatch.core import config  # noqa: E402
from deskwatch.core.engine import decide_many  # noqa: E402
from deskwatch.core.model import Organization, Person, Ticket, ticket_to_dict  # noqa: E402
from deskwatch.core.model.timeutil import format_time  # noqa: E402


def generate_orgs(n: int, orgs: int, days: int, seed: int) -> list[Ticket]:
    """``n`` tickets from ``orgs`` organizations (and ~25 requesters each) over ``days`` days."""
    rnd = random.Random(seed + 1)
    out = []
    for t in generate(n, seed):
        org = rnd.randrange(orgs)
        created = NOW - timedelta(minutes=rnd.randrange(10, 60 * 24 * days))
        shift = created - t.created_at
        msgs = tuple(replace(m, created_at=m.created_at + shift) for m in t.messages)
        o = t.organization or Organization(name="")
        out.append(replace(
            t,
            created_at=created,
            updated_at=t.updated_at + shift,
            messages=msgs,
            organization=replace(o, name=f"Org {org}"),
            requester=Person(id=t.requester.id if t.requester else None, email=f"user{rnd.randrange(25)}@org{org}.example"),
        ))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000,10000,20000")
    ap.add_argument("--orgs", type=int, default=20)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each pass; the best is reported")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cfg = config.load(None)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    decide_many(generate_orgs(50, args.orgs, args.days, args.seed), cfg, NOW)  # warm-up
    print(f"{args.orgs} organizations over {args.days} days; CPU time, best of {args.repeat}")
    rates = []
    for n in sizes:
        tickets = generate_orgs(n, args.orgs, args.days, args.seed)
        bodies = [m.body for t in tickets for m in t.messages]
        engine_s = _timed(lambda: decide_many(tickets, cfg, NOW), args.repeat)
        vader_s = _timed(lambda: [sia.polarity_scores(b) for b in bodies], args.repeat)
        rates.append(n / engine_s)
        print(f"{n:>7} tickets: engine {n / engine_s:7.0f} tickets/s ({engine_s:6.2f} s)   "
              f"bare VADER {n / vader_s:7.0f} tickets/s ({vader_s:6.2f} s)   ratio {engine_s / vader_s:.2f}x  (target <= 2.0x)")
    print(f"linearity: tickets/s at {sizes[-1]} is {rates[-1] / rates[0]:.2f} of the rate at {sizes[0]} (1.00 = linear)")

    n = sizes[-1]
    tickets = generate_orgs(n, args.orgs, args.days, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for t in tickets:
                f.write(json.dumps(ticket_to_dict(t), ensure_ascii=False) + "\n")
        exe = [sys.executable, "-m", "deskwatch.core.cli"] if not _deskwatch() else [_deskwatch()]
        t0 = time.perf_counter()
        done = subprocess.run([*exe, "score", "--now", format_time(NOW), path], stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t0
    print(f"deskwatch score end to end on {n} tickets: {n / wall:7.0f} tickets/s ({wall:.2f} s wall, process start "
          f"included, exit {done.returncode})   target >= 2,000")


def _deskwatch() -> str | None:
    exe = Path(sys.executable).with_name("deskwatch")
    return str(exe) if exe.exists() else None


if __name__ == "__main__":
    main()
