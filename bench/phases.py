"""Where the engine's time goes: each stage run as one pass over the same generated tickets.

    python bench/phases.py [--tickets 4000] [--seed 7]

Prints µs per ticket for text reading (quote/signature stripping, word sets, trigger phrases,
sentiment readings, issue keywords), the SLA, every signal family, scoring, confidence,
reasons and routing, then the whole of ``decide_many`` for comparison. Stages read the same
cached text the engine shares between signals, so each text stage is counted once. Best of
three passes, CPU time, cyclic GC paused (as decide_many pauses it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score import NOW, generate  # noqa: E402

from deskwatch.core import config  # noqa: E402
import importlib  # noqa: E402

# The module, not the function the package re-exports under the same name.
engine = importlib.import_module("deskwatch.core.engine.decide")  # noqa: E402

from deskwatch.core.policy import routing
from deskwatch.core.policy import sla as sla_mod  # noqa: E402
from deskwatch.core.engine.history import MemoryHistory  # noqa: E402
from deskwatch.core.engine.nlp import SupportLayer, analyzer_for  # noqa: E402
from deskwatch.core.engine.signals import SIGNALS, IncidentIndex, SignalContext, TextCache  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    tickets = generate(args.tickets, args.seed)
    cfg = config.load(None)
    esc = cfg.escalation
    engine.decide_many(tickets[:50], cfg, NOW)  # warm-up
    n = len(tickets)
    best: dict[str, float] = {}

    def stage(name, fn):
        with engine.gc_paused():
            t0 = time.process_time()
            out = fn()
            best[name] = min(best.get(name, float("inf")), (time.process_time() - t0) * 1e6 / n)
        return out

    for _ in range(3):
        texts = TextCache(esc, analyzer_for(cfg.nlp), SupportLayer(cfg.nlp))
        stage("text: new words per message", lambda: [texts.get(t).bodies for t in tickets])
        stage("text: word sets", lambda: [texts.get(t).searchable_words for t in tickets])
        stage("text: trigger phrases", lambda: [texts.get(t).hits for t in tickets])
        stage("text: sentiment readings", lambda: [texts.get(t).readings for t in tickets])
        stage("text: issue keywords", lambda: [texts.get(t).keywords for t in tickets])
        history = stage("history index", lambda: MemoryHistory(tickets))
        slas = stage("sla", lambda: [sla_mod.evaluate(t, cfg.sla, NOW) for t in tickets])
        ctxs = [SignalContext(esc, NOW, texts.get(t), texts, history, s, IncidentIndex()) for t, s in zip(tickets, slas)]
        for fn in SIGNALS:
            stage(f"signal: {fn.__name__}", lambda fn=fn: [fn(t, c) for t, c in zip(tickets, ctxs)])
        signals = stage("signals step (all, sorted)", lambda: [engine.signals_step(t, c) for t, c in zip(tickets, ctxs)])
        scores = stage("score", lambda: [engine.score_step(s, esc) for s in signals])
        verdicts = stage("verdict", lambda: [engine.verdict_step(t, sc, s, c) for t, sc, s, c in zip(tickets, scores, signals, ctxs)])
        stage("confidence", lambda: [engine.confidence_step(sc, s, v, c) for sc, s, v, c in zip(scores, signals, verdicts, ctxs)])
        stage("reasons", lambda: [engine.reasons(s, esc.top_reasons) for s in signals])
        load = routing.LoadSnapshot()
        stage("route", lambda: [engine._route(t, cfg, NOW, load, None, round(sc, 2), v.recommendation, v.tier, s)
                                for t, sc, v, s in zip(tickets, scores, verdicts, signals)])
        stage("decide_many (whole)", lambda: engine.decide_many(tickets, cfg, NOW))

    total = best.pop("decide_many (whole)")
    print(f"{n} tickets, µs per ticket (CPU time, best of 3)")
    for name, us in best.items():
        print(f"  {name:34s} {us:7.1f}")
    print(f"  {'decide_many (whole)':34s} {total:7.1f}   = {1e6 / total:,.0f} tickets/s")


if __name__ == "__main__":
    main()
