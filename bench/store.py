"""Measure the store at scale: ingest 100,000 tickets, decide them, then time the queue.

    .venv/bin/python bench/store.py [--tickets 100000] [--path FILE]
    .venv/bin/python bench/store.py --url postgresql://postgres@127.0.0.1:5432/test

Prints ingest rate, the time of the console's first page (100 rows), a filtered page, a text
search, a queue_changes poll and a history lookup. Not a test: run it by hand. With ``--url`` the
same runs on PostgreSQL, in a schema of its own (created, then dropped) in that database; the
tables are vacuumed and analyzed after loading, as autovacuum would do on a live store.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deskwatch.core.model import Decision, Message, Organization, Person, Route, Signal, SlaStatus, SlaTarget, Ticket
from deskwatch.core.store import QueueFilter, Store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
SUBJECTS = ["Charged twice", "Cannot log in", "API returns 500", "Refund request", "GDPR deletion", "Outage in EU", "How to export", "Invoice wrong"]
SOURCES = ["zendesk", "freshdesk", "salesforce"]
CHANNELS = ["email", "chat", "phone", "web"]
RECS = ["none", "monitor", "priority", "immediate"]


def make(i: int, rnd: random.Random) -> tuple[Ticket, Decision]:
    src = SOURCES[i % 3]
    created = NOW - timedelta(minutes=rnd.randrange(60 * 24 * 30))
    org = f"Org {rnd.randrange(5000)}"
    t = Ticket(
        id=f"{src}:{i}", source=src, channel=rnd.choice(CHANNELS), subject=f"{rnd.choice(SUBJECTS)} #{i}",
        status=rnd.choice(["new", "open", "open", "pending", "solved"]), priority=rnd.choice(["low", "normal", "high"]),
        created_at=created, updated_at=created + timedelta(minutes=5),
        messages=(Message("customer", created, "Hello, " + " ".join(rnd.choice(SUBJECTS).lower() for _ in range(20))),),
        requester=Person(id=str(i), email=f"user{rnd.randrange(40000)}@example.com", name=f"User {i}"),
        organization=Organization(id=org, name=org, annual_value=float(rnd.randrange(1000, 200000))),
        assignee=f"agent{rnd.randrange(60)}", group=rnd.choice(["Billing", "Platform", "Support"]),
    )
    rec = rnd.choices(RECS, weights=[50, 30, 15, 5])[0]
    due = NOW + timedelta(minutes=rnd.randrange(-120, 600))
    tier = rnd.choice(["tier1", "tier2", "tier3"])
    d = Decision(
        t.id, round(rnd.uniform(0, 100), 1), rec, tier, rnd.choice(["billing", "platform", "support"]),
        rnd.random(), rnd.random() < 0.1, (Signal("sentiment", 0.5, 20, 10, ("angry",), "angry"),), ("reason",), NOW,
        SlaStatus("std", (SlaTarget("first_response", due, 50, rnd.choice(["ok", "warning", "breached"]), True, 60),)),
        Route(tier, "billing", None, False, None, "rule"),
    )
    return t, d


def timed(fn, repeat: int = 20) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--path", type=Path)
    ap.add_argument("--url", help="a PostgreSQL database to measure instead of SQLite (a scratch schema is used)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.path or Path(tmp.name) / "bench.db"
    schema = None
    if args.url:
        import secrets

        import psycopg

        schema = "dw_bench_" + secrets.token_hex(4)
        with psycopg.connect(args.url, autocommit=True) as c:
            c.execute(f"CREATE SCHEMA {schema}")
        store = Store(url=args.url + ("&" if "?" in args.url else "?") + f"options=-csearch_path%3D{schema}")
    else:
        store = Store(path)
    try:
        run(store, args, path)
    finally:
        store.close()
        if schema:
            with psycopg.connect(args.url, autocommit=True) as c:
                c.execute(f"DROP SCHEMA {schema} CASCADE")


def run(store: Store, args: argparse.Namespace, path: Path) -> None:
    rnd = random.Random(7)
    pairs = [make(i, rnd) for i in range(args.tickets)]
    t0 = time.perf_counter()
    for k in range(0, len(pairs), 100):
        by_src: dict[str, list[Ticket]] = {}
        for t, _ in pairs[k : k + 100]:
            by_src.setdefault(t.source, []).append(t)
        for src, ts in by_src.items():
            store.save_page(src, ts, (), {"cursor": k})
    ingest = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(0, len(pairs), 500):
        with store.transaction():
            for _, d in pairs[k : k + 500]:
                store.record_decision(d)
    decide = time.perf_counter() - t0
    n = args.tickets
    if store.url:
        store._conn.execute("VACUUM ANALYZE")  # outside a transaction; what autovacuum does on a live store
        size = store.read("SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = current_schema() AND c.relkind = 'r'")[0][0]
        print(f"store: PostgreSQL ({store.where})")
    else:
        size = path.stat().st_size
        print(f"store: SQLite ({path})")
    print(f"tickets: {n:,}  store: {float(size) / 1e6:.0f} MB")
    print(f"save_page ingest: {n / ingest:,.0f} tickets/s; record_decision: {n / decide:,.0f} decisions/s")
    print(f"queue first page (100 rows): {timed(lambda: store.queue(limit=100, now=NOW)):.1f} ms (median of 20)")
    print(f"queue page 50 (offset 5,000): {timed(lambda: store.queue(limit=100, offset=5000, now=NOW)):.1f} ms")
    print(f"queue filtered team+tier: {timed(lambda: store.queue(QueueFilter(team='platform', tier='tier3'), limit=100)):.1f} ms")
    print(f"queue text search 'refund': {timed(lambda: store.queue(QueueFilter(text='refund'), limit=100)):.1f} ms")
    print(f"queue text search, no match: {timed(lambda: store.queue(QueueFilter(text='zzzz-nothing'), limit=100), 3):.1f} ms")
    v = store.current_version()
    print(f"queue_changes poll (nothing changed): {timed(lambda: store.queue_changes(v)):.2f} ms")
    sample = pairs[n // 2][0]
    print(f"history related(): {timed(lambda: store.history().related(sample)):.1f} ms ({len(store.history().related(sample))} tickets)")
    print(f"load_counts: {timed(lambda: store.load_counts(), 5):.1f} ms")


if __name__ == "__main__":
    main()
