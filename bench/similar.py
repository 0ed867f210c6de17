"""Measure "similar solved tickets" on BANKING77: retrieval quality and query time at scale.

    .venv/bin/python bench/similar.py [--data ../shared/datasets/banking77/train.csv] [--scale 100000]

The folder holds only BANKING77's train file, so a seeded 10% of each intent is held out as
the test split. The rest are stored as solved tickets (the query is the customer's message,
the intent is the agent's closing reply, i.e. the resolution), then each test query is asked
for its similar tickets: precision@1 and @5 count results with the test query's intent.
Then the index is grown to ``--scale`` tickets by repeating train rows with perturbations
(dropped and swapped words, typos, other organizations and dates) and query time is measured.
Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deskwatch.core.model import Message, Organization, Person, StatusChange, Ticket
from deskwatch.core.store import Store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "banking77" / "train.csv"


def load(path: Path, seed: int = 77) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, test) lists of (text, intent): 10% of each intent held out, seeded."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_intent[row["category"]].append(row["text"].strip())
    rnd = random.Random(seed)
    train, test = [], []
    for intent, texts in sorted(by_intent.items()):
        rnd.shuffle(texts)
        cut = max(1, len(texts) // 10)
        test += [(t, intent) for t in texts[:cut]]
        train += [(t, intent) for t in texts[cut:]]
    return train, test


def solved_ticket(i: int, text: str, intent: str, rnd: random.Random) -> Ticket:
    created = NOW - timedelta(days=rnd.uniform(1, 400))
    solved = created + timedelta(hours=rnd.uniform(0.5, 72))
    org = f"Org {rnd.randrange(2000)}"
    return Ticket(
        id=f"zendesk:{i}", source="zendesk", channel="email", subject=text[:80], status="solved", priority="normal",
        created_at=created, updated_at=solved,
        messages=(
            Message("customer", created, text, True, f"c{i}"),
            Message("agent", solved - timedelta(minutes=5), f"Resolved as {intent.replace('_', ' ')}. Closing the ticket.", True, "a1"),
        ),
        requester=Person(id=f"c{i}", email=f"user{i}@example.com", name=f"User {i}"),
        organization=Organization(id=org, name=org),
        status_history=(StatusChange("open", created), StatusChange("solved", solved)),
    )


def query_ticket(i: int, text: str) -> Ticket:
    return Ticket(
        id=f"freshdesk:q{i}", source="freshdesk", channel="email", subject=text[:80], status="open", priority="normal",
        created_at=NOW, updated_at=NOW, messages=(Message("customer", NOW, text, True, "q"),),
        requester=Person(id="q", email=f"q{i}@example.com"), organization=Organization(id="Org q", name="Org q"),
    )


def perturb(text: str, rnd: random.Random) -> str:
    words = text.split()
    if len(words) > 3 and rnd.random() < 0.5:
        del words[rnd.randrange(len(words))]
    if len(words) > 3 and rnd.random() < 0.5:
        a, b = rnd.randrange(len(words)), rnd.randrange(len(words))
        words[a], words[b] = words[b], words[a]
    if rnd.random() < 0.3:
        k = rnd.randrange(len(words))
        w = words[k]
        if len(w) > 3:
            j = rnd.randrange(len(w) - 1)
            words[k] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def ingest(store: Store, rows: list[tuple[int, str, str]], rnd: random.Random) -> float:
    t0 = time.perf_counter()
    for k in range(0, len(rows), 1000):
        store.save_page("zendesk", [solved_ticket(i, text, intent, rnd) for i, text, intent in rows[k : k + 1000]])
    return time.perf_counter() - t0


def evaluate(store: Store, test: list[tuple[str, str]], intent_of: dict[str, str]) -> tuple[float, float, list[float], list[float]]:
    p1 = p5 = 0.0
    times, cpu = [], []
    for n, (text, intent) in enumerate(test):
        q = query_ticket(n, text)
        t0, c0 = time.perf_counter(), time.process_time()
        found = store.similar(q, now=NOW, limit=5)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        hits = [intent_of[c.ticket_id] == intent for c in found]
        p1 += bool(hits and hits[0])
        p5 += sum(hits) / 5
    return p1 / len(test), p5 / len(test), times, cpu


def ms(times: list[float]) -> str:
    times = sorted(times)
    return f"median {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="BANKING77 train.csv")
    ap.add_argument("--scale", type=int, default=100_000, help="tickets indexed for the timing run")
    ap.add_argument("--path", type=Path, help="store file (default: a temporary one)")
    args = ap.parse_args()
    if not args.data.exists():
        raise SystemExit(f"{args.data}: not found; pass --data with the path of BANKING77's train.csv")
    train, test = load(args.data)
    rnd = random.Random(14)
    path = args.path or Path(tempfile.mkdtemp()) / "similar.db"
    print(f"BANKING77: {len(train)} train queries indexed as solved tickets, {len(test)} held-out test queries, store {path}")
    intent_of: dict[str, str] = {}
    rows = []
    for i, (text, intent) in enumerate(train):
        rows.append((i, text, intent))
        intent_of[f"zendesk:{i}"] = intent
    with Store(path) as store:
        took = ingest(store, rows, rnd)
        print(f"ingest: {len(rows)} tickets in {took:.1f} s")
        p1, p5, times, cpu = evaluate(store, test, intent_of)
        print(f"at {len(rows)} tickets: precision@1 {p1:.3f}, precision@5 {p5:.3f}")
        print(f"  query wall {ms(times)}; CPU {ms(cpu)}")

        extra = []
        for i in range(len(rows), args.scale):
            text, intent = train[rnd.randrange(len(train))]
            extra.append((i, perturb(text, rnd), intent))
            intent_of[f"zendesk:{i}"] = intent
        took = ingest(store, extra, rnd)
        print(f"ingest: {len(extra)} more (perturbed repeats) in {took:.1f} s; {store.ticket_count()} tickets")
        p1, p5, times, cpu = evaluate(store, test, intent_of)
        print(f"at {store.ticket_count()} tickets: precision@1 {p1:.3f}, precision@5 {p5:.3f} "
              "(typo'd and shuffled near-copies now compete with the clean rows)")
        print(f"  query wall {ms(times)}; CPU {ms(cpu)}")
        # Wall time includes waiting for a busy CPU; CPU time is what a query itself costs.
        target = "met" if statistics.median(cpu) < 20 else "MISSED"
        print(f"target under 20 ms per query (median CPU time): {target}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
