"""Benchmark: the learned models' figures, training time and the cost of scoring with them.

    python bench/learn.py [--banking77-test FILE] [--train-size 100000] [--tickets 4000]
    python bench/learn.py --loop     # the simulator loop: bench/learn_loop.py (its own options there)

Prints:
- router on BANKING77 (../shared/datasets/banking77/train.csv): accuracy and macro-F1 on the
  official test split when its file is given (--banking77-test, columns text,category), else on
  a seeded 20 % of each intent kept out of training;
- tone on the airline tweets (../shared/datasets/airline-sentiment/dev.csv): the most recent
  20 % held out, against the lexicon (VADER + the support cue layer) on the same tweets;
- training time for the router on --train-size texts (support text recombined from both sets);
- engine throughput with all three models active against the rules alone (target: >= 0.75x).
Targets from the learning issue: router >= 0.91, tone >= 0.78, training on 100,000 tickets under
2 minutes on one core.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from score import NOW, generate  # noqa: E402

from deskwatch.core import config  # noqa: E402
from deskwatch.core.engine import decide_many  # noqa: E402
from deskwatch.core.engine.learned import LearnedModels  # noqa: E402
from deskwatch.core.learn.baselines import tone_rules  # noqa: E402
from deskwatch.core.learn.data import Example, read_file  # noqa: E402
from deskwatch.core.learn.textmodel import TextModel  # noqa: E402
from deskwatch.core.learn.train import train  # noqa: E402

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--banking77-test", metavar="FILE", help="BANKING77's official test.csv, if you have it")
    ap.add_argument("--train-size", type=int, default=100_000)
    ap.add_argument("--tickets", type=int, default=4000)
    ap.add_argument("--loop", action="store_true", help="run the simulator loop instead (bench/learn_loop.py, its defaults)")
    args = ap.parse_args()
    if args.loop:
        import learn_loop

        sys.argv = [sys.argv[0]]
        return learn_loop.main()
    cfg = config.load(None)

    bank = read_file(DATASETS / "banking77" / "train.csv", text="text", label="category")
    test = read_file(args.banking77_test, text="text", label="category") if args.banking77_test else None
    t = time.process_time()
    router = train("router", bank, source="banking77", test=test)
    print(f"router  BANKING77 ({'official test split' if test else 'seeded 20% of each intent'}, {router.new.n:,} queries): "
          f"accuracy {router.new.accuracy:.3f}, macro-F1 {router.new.macro_f1:.3f}   "
          f"(target >= 0.91; {time.process_time() - t:.1f}s CPU)")

    air = read_file(DATASETS / "airline-sentiment" / "dev.csv", text="text", label="airline_sentiment")
    tone = train("tone", air, source="airline", rules=tone_rules(cfg))
    print(f"tone    airline tweets (most recent 20%, {tone.new.n:,}): accuracy {tone.new.accuracy:.3f}, "
          f"macro-F1 {tone.new.macro_f1:.3f}; lexicon {tone.rules.accuracy:.3f}   (target >= 0.78)")

    rng = random.Random(5)
    pool = [e.text for e in bank] + [e.text for e in air]
    # A ticket: a customer's question (its intent is the label) with two unrelated sentences
    # around it, as support text carries greetings, context and complaints.
    picks = [rng.choice(bank) for _ in range(args.train_size)]
    texts = [p.text + " " + " ".join(rng.sample(pool, 2)) for p in picks]
    labels = [p.label for p in picks]
    t = time.process_time()
    big = TextModel.fit(texts, labels)
    print(f"train   {args.train_size:,} tickets, {len(big.classes)} labels: {time.process_time() - t:.1f}s CPU   (target < 120s)")

    esc_ex = [Example(e.text, "escalate" if e.label == "negative" else "no") for e in air]
    escalation = train("escalation", esc_ex, source="airline-as-escalation").model
    models = LearnedModels(router=router.model, tone=tone.model, escalation=escalation, versions={"router": 1, "tone": 2, "escalation": 3})
    tickets = generate(args.tickets, 7)
    decide_many(tickets[:200], cfg, NOW, models=models)  # warm caches and imports
    rules = _best(lambda: decide_many(tickets, cfg, NOW))
    with_models = _best(lambda: decide_many(tickets, cfg, NOW, models=models))
    print(f"score   {args.tickets:,} tickets: rules {args.tickets / rules:,.0f}/s, with 3 models {args.tickets / with_models:,.0f}/s, "
          f"ratio {rules / with_models:.2f}x   (target >= 0.75x)")


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


if __name__ == "__main__":
    main()
