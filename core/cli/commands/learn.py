"""`deskwatch learn`: train the router, tone and escalation models from the store's history, or
from a labelled CSV / JSON Lines file, and activate a new version only if it beats what runs now."""

from __future__ import annotations

import argparse
import json
import sys
import time

from deskwatch.core import config
from deskwatch.core.model.timeutil import utcnow

KINDS = ("router", "tone", "escalation")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("learn", help="train models from history or a labelled file", description=__doc__)
    p.add_argument("--config", "-c", metavar="FILE", help="config file")
    p.add_argument("--model", choices=KINDS, help="which model (default: every model the store has labels for; "
                   "required with --from)")
    p.add_argument("--from", dest="from_file", metavar="FILE", help="a labelled .csv or .jsonl file instead of the store")
    p.add_argument("--text", metavar="COLUMN", default="text", help="the file's text column (default: text)")
    p.add_argument("--label", metavar="COLUMN", default="label", help="the file's label column (default: label)")
    p.add_argument("--time", metavar="COLUMN", help="the file's time column; the newest part is tested on "
                   "(default: the file's order, later lines newer)")
    p.add_argument("--test", metavar="FILE", help="a separate held-out file to test on, same columns")
    p.add_argument("--holdout", type=float, metavar="SHARE", help="share of the data kept out for testing ([learn] holdout)")
    p.add_argument("--min-per-label", type=int, metavar="N", help="refuse labels with fewer examples ([learn] min_per_label)")
    gate = p.add_mutually_exclusive_group()
    gate.add_argument("--activate", action="store_true", help="activate the new version even if it is not better")
    gate.add_argument("--no-activate", action="store_true", help="save the new version without activating it")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _progress(quiet: bool):
    start = time.monotonic()

    def say(msg: str) -> None:
        if not quiet and sys.stderr.isatty():
            print(f"  [{time.monotonic() - start:5.1f}s] {msg}", file=sys.stderr, flush=True)

    return say


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError
    from deskwatch.core.learn import baselines, history
    from deskwatch.core.learn.data import LabelError, read_file
    from deskwatch.core.learn.textmodel import ModelFormatError, TextModel
    from deskwatch.core.learn.train import train
    from deskwatch.core.store import open_store

    cfg = config.load(args.config)
    lc = cfg.learn
    holdout = args.holdout if args.holdout is not None else lc.holdout
    if not 0.05 <= holdout <= 0.5:
        raise UsageError(f"--holdout {holdout}: give a share between 0.05 and 0.5")
    min_per_label = args.min_per_label if args.min_per_label is not None else lc.min_per_label
    say = _progress(args.json)
    now = utcnow()
    store = open_store(cfg)
    results, problems = [], []
    try:
        if args.from_file:
            if not args.model:
                raise UsageError("--from needs --model router|tone|escalation (which model the labels are for)")
            jobs = {args.model: (read_file(args.from_file, text=args.text, label=args.label, time=args.time), args.from_file)}
        else:
            if args.test:
                raise UsageError("--test goes with --from (a held-out file for a labelled file)")
            kinds = [args.model] if args.model else list(KINDS)
            jobs = {k: (history.FROM_STORE[k](store._conn), f"the store ({cfg.store.where})") for k in kinds}
        test = read_file(args.test, text=args.text, label=args.label, time=args.time) if args.test else None
        for kind, (examples, source) in jobs.items():
            if kind == "tone":
                examples, test = _tone_labels(examples, source), (_tone_labels(test, args.test) if test else None)
            if not examples:
                problems.append(f"{kind}: no labelled examples in {source} yet "
                                f"(bring a file: deskwatch learn --from FILE --model {kind} --text COLUMN --label COLUMN)")
                continue
            say(f"{kind}: {len(examples):,} labelled examples from {source}")
            active = None
            current = store.active_models().get(kind)
            if current is not None:
                try:
                    active = TextModel.from_bytes(current[1])
                except ModelFormatError as e:
                    problems.append(f"{kind}: the active version {current[0].version} does not load ({e}); comparing with the rules only")
            try:
                res = train(kind, examples, source=source, holdout=holdout, min_per_label=min_per_label, active=active,
                            rules=baselines.RULES[kind](cfg), test=test, now=now, progress=say)
            except LabelError as e:
                if args.model:
                    raise
                problems.append(f"{kind}: {e}")
                continue
            activate = args.activate or (res.better and not args.no_activate)
            saved = store.save_model(kind, res.model.to_bytes(), trained_on=res.trained_on, figures=res.figures(),
                                     now=now, activate=activate)
            results.append((res, saved))
    except LabelError as e:
        print(f"deskwatch learn: {e}", file=sys.stderr)
        print("nothing was activated", file=sys.stderr)
        return 2
    finally:
        store.close()
    if args.json:
        print(json.dumps({"models": [dict(saved.to_dict(), notes=res.notes) for res, saved in results],
                          "problems": problems}, indent=2))
    else:
        for res, saved in results:
            _print(res, saved)
        for p in problems:
            print(f"skipped {p}", file=sys.stderr)
    if not results:
        return 2 if problems and (args.model or args.from_file) else 1
    return 0


def _tone_labels(examples, source):
    from deskwatch.core.learn.data import Example, LabelError, normalize_tone

    out = []
    for e in examples:
        label = normalize_tone(e.label)
        if label is None:
            raise LabelError(f'{e.where}: "{e.label}" is not a tone label; use negative, neutral or positive '
                             "(also read: bad/good, frustrated, pos/neg)")
        out.append(Example(e.text, label, e.at, e.where))
    return out


def _print(res, saved) -> None:
    f = saved.figures
    t = f["test"]
    print(f"{res.kind}: version {saved.version} {'ACTIVE' if saved.active else 'saved, not active'}")
    print(f"  trained on {res.trained_on['examples']:,} examples, {len(res.trained_on['labels'])} labels; "
          f"tested on the {t['n']:,} most recent")
    rows = [("new model", t), ("active model", f["active"]), ("rules", f["rules"])]
    for name, fig in rows:
        if fig:
            print(f"  {name:<13} accuracy {fig['accuracy']:.3f}  macro-F1 {fig['macro_f1']:.3f}")
    for note in res.notes:
        print(f"  note: {note}")
    if not saved.active:
        print(f"  kept the current one; `deskwatch models activate {saved.version}` switches by hand")
