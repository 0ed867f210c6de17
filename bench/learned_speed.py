"""Benchmark: what the three learned models cost when scoring, and the daemon's memory with them.

    python bench/learned_speed.py [--part speed|accuracy|train|rss|all] [--tickets 4000] [--rounds 4]
                                  [--banking77-test FILE] [--train-size 100000] [--rss-tickets 100000]

1. speed: trains router (BANKING77 train.csv), tone (airline tweets) and escalation (the airline
   tweets, negative = escalate) and runs ``decide_many`` over the same seeded tickets with and
   without them, alternated (rules, models, rules, models, ...), CPU time; prints the median
   tickets/s of each and their ratio. Target: with models >= 0.75x the rules alone.
   --real-text also runs it on the same tickets with real customer text in every customer
   message (a wider vocabulary than the generator's).
2. accuracy: router on BANKING77 (official test split with --banking77-test, else a seeded 20 %
   of each intent held out of train.csv), tone on the most recent 20 % of the airline tweets.
   Targets: router >= 0.91, tone >= 0.78.
3. train: fitting the router on --train-size support texts recombined from both sets (as
   bench/learn.py does), CPU time. Target: under 120 s for 100,000.
4. rss: peak resident memory of `deskwatch daemon --once` syncing --rss-tickets tickets from the
   simulator with the three models active in its store (bench/sync.py's rss part, models added;
   --rss-compare runs it without models first). Target: under 250 MB.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from score import NOW, generate  # noqa: E402

from deskwatch.core import config  # noqa: E402
from deskwatch.core.engine import decide_many, gc_paused  # noqa: E402
from deskwatch.core.engine.learned import LearnedModels  # noqa: E402
from deskwatch.core.learn.baselines import tone_rules  # noqa: E402
from deskwatch.core.learn.data import Example, read_file  # noqa: E402
from deskwatch.core.learn.textmodel import TextModel  # noqa: E402
from deskwatch.core.learn.train import train  # noqa: E402

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def datasets() -> tuple[list[Example], list[Example]]:
    bank = read_file(DATASETS / "banking77" / "train.csv", text="text", label="category")
    air = read_file(DATASETS / "airline-sentiment" / "dev.csv", text="text", label="airline_sentiment")
    return bank, air


def three_models(bank: list[Example], air: list[Example]) -> LearnedModels:
    router = train("router", bank, source="banking77").model
    tone = train("tone", air, source="airline").model
    escalation = train("escalation", [Example(e.text, "escalate" if e.label == "negative" else "no") for e in air],
                       source="airline-as-escalation").model
    return LearnedModels(router=router, tone=tone, escalation=escalation, versions={"router": 1, "tone": 2, "escalation": 3})


def real_text(tickets: list, pool: list[str]) -> list:
    """The tickets with each customer message's first line replaced by a real customer text
    (BANKING77 queries, airline tweets): a vocabulary as wide as real support text, where the
    generated tickets repeat a few hundred words."""
    rng = random.Random(11)
    out = []
    for t in tickets:
        msgs = tuple(replace(m, body=rng.choice(pool) + "\n" + m.body.split("\n", 1)[-1]) if m.author == "customer" else m
                     for m in t.messages)
        out.append(replace(t, messages=msgs, subject=rng.choice(pool)[:60]))
    return out


def speed(models: LearnedModels, n: int, rounds: int, pool: list[str] | None = None) -> None:
    cfg = config.load(None)
    tickets = generate(n, 7)
    if pool:
        tickets = real_text(tickets, pool)
    decide_many(tickets[:200], cfg, NOW)  # warm caches and imports
    decide_many(tickets[:200], cfg, NOW, models=models)
    rules, learned = [], []
    for _ in range(rounds):  # alternated, so both see the same machine load
        rules.append(_cpu(lambda: decide_many(tickets, cfg, NOW)))
        learned.append(_cpu(lambda: decide_many(tickets, cfg, NOW, models=models)))
    r, m = statistics.median(rules), statistics.median(learned)
    what = "tickets with real customer text" if pool else "tickets"
    print(f"speed   {n:,} {what}, median of {rounds} alternated runs (CPU): rules {n / r:,.0f}/s, "
          f"with 3 models {n / m:,.0f}/s, ratio {r / m:.2f}x   (target >= 0.75x)")
    print(f"        runs rules {', '.join(f'{n / x:,.0f}' for x in rules)}; with models {', '.join(f'{n / x:,.0f}' for x in learned)}")


def accuracy(bank: list[Example], air: list[Example], test_file: str | None) -> None:
    test = read_file(test_file, text="text", label="category") if test_file else None
    t = time.process_time()
    router = train("router", bank, source="banking77", test=test)
    print(f"router  BANKING77 ({'official test split' if test else 'seeded 20% of each intent held out of train.csv'}, "
          f"{router.new.n:,} queries): accuracy {router.new.accuracy:.3f}, macro-F1 {router.new.macro_f1:.3f}   "
          f"(target >= 0.91; {time.process_time() - t:.1f}s CPU)")
    tone = train("tone", air, source="airline", rules=tone_rules(config.load(None)))
    print(f"tone    airline tweets (most recent 20%, {tone.new.n:,}): accuracy {tone.new.accuracy:.3f}, "
          f"macro-F1 {tone.new.macro_f1:.3f}; lexicon {tone.rules.accuracy:.3f}   (target >= 0.78)")
    m = router.model
    print(f"        router features: {len(m.word_terms):,} word + {len(m.char_terms):,} char n-grams, {len(m.classes)} labels")


def train_time(bank: list[Example], air: list[Example], size: int) -> None:
    rng = random.Random(5)
    pool = [e.text for e in bank] + [e.text for e in air]
    picks = [rng.choice(bank) for _ in range(size)]
    texts = [p.text + " " + " ".join(rng.sample(pool, 2)) for p in picks]
    t = time.process_time()
    big = TextModel.fit(texts, [p.label for p in picks])
    print(f"train   {size:,} tickets, {len(big.classes)} labels: {time.process_time() - t:.1f}s CPU   (target < 120s)")


# The daemon is started from this small process, not from the bench: a child forked from a
# process holding trained models and datasets counts their pages in its peak RSS before it execs.
SPAWN = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


def rss(models: LearnedModels | None, n: int) -> None:
    import tomli_w
    from sync import SimProcess, bench_cfg

    from deskwatch.core.store import Store

    sim = SimProcess(n, limits=False, helpdesks=("salesforce",))
    try:
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            path = folder / "bench.toml"
            data = bench_cfg(sim.sources, folder)
            store = Store(folder / "bench.db")
            now = datetime.now(timezone.utc)
            for kind in ("router", "tone", "escalation") if models else ():
                store.save_model(kind, getattr(models, kind).to_bytes(), trained_on={"source": "bench"}, figures={},
                                 now=now, activate=True)
            store.close()
            for page in (2000, 1000, 500):
                # A busy machine can keep the simulator's first page of a large backlog past the
                # connector's 60 s deadline; the daemon then syncs nothing and exits. Again then,
                # with smaller pages (said in the output: a page's decisions are part of the peak).
                data["sources"]["salesforce"]["page_size"] = page
                path.write_text(tomli_w.dumps(data))
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-c", SPAWN, sys.executable, "-m", "deskwatch.core.cli", "daemon",
                                       "--once", "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                elapsed = time.perf_counter() - t0
                peak_kb, code = (int(x) for x in proc.stdout.split()[-2:])
                store = Store(folder / "bench.db")
                stored = store.ticket_count()
                learned = store._q("SELECT COUNT(*) FROM decisions WHERE data LIKE '%\"learned\"%'")[0][0]
                store.close()
                if stored:
                    break
                print(f"rss     pages of {page}: the daemon synced nothing (simulator too slow to answer)")
    finally:
        sim.stop()
    if code != 0:
        print(proc.stderr[-2000:])
    what = f"3 models active ({learned:,} decisions with a learned block)" if models else "rules alone"
    print(f"rss     daemon synced {stored:,} tickets in {elapsed:.0f} s (pages of {page}), {what}; peak RSS {peak_kb / 1024:,.0f} MB   (target < 250 MB)")


def _cpu(fn) -> float:
    with gc_paused():
        t = time.process_time()
        fn()
        return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("speed", "accuracy", "train", "rss", "all"), default="all")
    ap.add_argument("--tickets", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--real-text", action="store_true",
                    help="also score tickets whose customer text is real (BANKING77 queries, airline tweets)")
    ap.add_argument("--banking77-test", metavar="FILE")
    ap.add_argument("--train-size", type=int, default=100_000)
    ap.add_argument("--rss-tickets", type=int, default=100_000)
    ap.add_argument("--rss-compare", action="store_true", help="also measure the daemon without models, first")
    args = ap.parse_args()
    bank, air = datasets()
    if args.part in ("accuracy", "all"):
        accuracy(bank, air, args.banking77_test)
    if args.part in ("speed", "rss", "all"):
        models = three_models(bank, air)
        if args.part in ("speed", "all"):
            speed(models, args.tickets, args.rounds)
            if args.real_text:
                speed(models, args.tickets, args.rounds, [e.text for e in bank] + [e.text for e in air])
        if args.part in ("rss", "all"):
            if args.rss_compare:
                rss(None, args.rss_tickets)
            rss(models, args.rss_tickets)
    if args.part in ("train", "all"):
        train_time(bank, air, args.train_size)


if __name__ == "__main__":
    main()
