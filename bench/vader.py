"""Benchmark: vaderSentiment's ``polarity_scores`` against ``deskwatch.core.engine.vader.FastVader``.

    python bench/vader.py [--tickets 10000] [--seed 7] [--repeat 3]

Texts: every message body of ``bench/score.py``'s generated tickets (the engine bench's
workload) and the airline tweets of ``$DESKWATCH_SHARED/datasets/airline-sentiment/dev.csv``
(skipped if missing). Both scorers run over the same texts on one core; each figure is the
best of ``--repeat`` runs (CPU time, so other load on the machine disturbs it less). Prints
messages/s both ways and the speed-up. It also counts compound mismatches while warming up;
tests/test_vader.py is where equality is asserted.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import time
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from deskwatch.core.engine.vader import FastVader

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("DESKWATCH_SHARED", HERE.parent.parent / "shared"))


def _bench_score():
    spec = importlib.util.spec_from_file_location("deskwatch_bench_score", HERE / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ticket_messages(n: int, seed: int) -> list[str]:
    return [m.body for t in _bench_score().generate(n, seed) for m in t.messages]


def airline_tweets() -> list[str]:
    path = SHARED / "datasets" / "airline-sentiment" / "dev.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f)]


def best_time(fn, texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for text in texts:
            fn(text)
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    sia = SentimentIntensityAnalyzer()
    fast = FastVader()
    corpora = [(f"ticket messages ({args.tickets} tickets, seed {args.seed})", ticket_messages(args.tickets, args.seed))]
    tweets = airline_tweets()
    if tweets:
        corpora.append(("airline tweets", tweets))
    else:
        print(f"(airline tweets not found under {SHARED}; set DESKWATCH_SHARED)")

    for name, texts in corpora:
        # Warm-up pass, which also loads the lexicons.
        mismatches = sum(sia.polarity_scores(t)["compound"] != fast.compound(t) for t in texts)
        vader_s = best_time(sia.polarity_scores, texts, args.repeat)
        fast_s = best_time(fast.compound, texts, args.repeat)
        n = len(texts)
        print(f"{name}: {n} texts, {mismatches} compound mismatches")
        print(f"  vaderSentiment polarity_scores: {n / vader_s:9.0f} messages/s  ({vader_s:.2f} s)")
        print(f"  FastVader.compound:             {n / fast_s:9.0f} messages/s  ({fast_s:.2f} s)")
        print(f"  speed-up: {vader_s / fast_s:.1f}x")


if __name__ == "__main__":
    main()
