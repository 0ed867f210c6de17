"""`deskwatch models`: the learned model versions, what each was trained on, its test figures and
which is active; `models activate VERSION` and `models rollback [KIND]` switch between them."""

from __future__ import annotations

import argparse
import json

from deskwatch.core import config
from deskwatch.core.model.timeutil import format_time, utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, activate or roll back learned models", description=__doc__)
    p.add_argument("--config", "-c", metavar="FILE", help="config file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run, models_action="list")
    msub = p.add_subparsers(dest="models_action", metavar="ACTION")
    a = msub.add_parser("activate", help="make a version the active one of its kind")
    a.add_argument("version", type=int, metavar="VERSION")
    # SUPPRESS: an option given before the action (`models -c F activate 3`) must not be reset
    a.add_argument("--config", "-c", metavar="FILE", help="config file", default=argparse.SUPPRESS)
    a.add_argument("--json", action="store_true", help="machine-readable output", default=argparse.SUPPRESS)
    r = msub.add_parser("rollback", help="go back to the version active before the current one")
    r.add_argument("kind", nargs="?", choices=("router", "tone", "escalation"), help="which model (default: all active ones)")
    r.add_argument("--config", "-c", metavar="FILE", help="config file", default=argparse.SUPPRESS)
    r.add_argument("--json", action="store_true", help="machine-readable output", default=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError
    from deskwatch.core.store import open_store
    from deskwatch.core.store.models import ModelNotFound

    cfg = config.load(args.config)
    store = open_store(cfg)
    try:
        if args.models_action == "activate":
            try:
                m = store.activate_model(args.version, now=utcnow())
            except ModelNotFound as e:
                raise UsageError(str(e)) from None
            _say(args, {"activated": m.to_dict()}, f"{m.kind}: version {m.version} is now active")
            return 0
        if args.models_action == "rollback":
            kinds = [args.kind] if args.kind else sorted({m.kind for m in store.models() if m.active})
            if not kinds:
                raise UsageError("no active model to roll back; `deskwatch models` lists the versions")
            done = {}
            for kind in kinds:
                try:
                    m = store.rollback_model(kind, now=utcnow())
                except ModelNotFound as e:
                    raise UsageError(str(e)) from None
                done[kind] = m.to_dict() if m else None
            _say(args, {"rolled_back": done}, "\n".join(
                f"{k}: version {v['version']} is active again" if v else f"{k}: no earlier version; the rules decide alone"
                for k, v in done.items()))
            return 0
        rows = store.models()
    finally:
        store.close()
    if args.json:
        print(json.dumps({"models": [m.to_dict() for m in rows]}, indent=2))
        return 0
    if not rows:
        print("no models yet: `deskwatch learn` trains them from the store, or "
              "`deskwatch learn --from FILE --model router --text COLUMN --label COLUMN` from a file")
        return 0
    print(f"{'version':>7}  {'kind':<10} {'state':<7} {'trained':<20} {'examples':>9} {'labels':>6} {'accuracy':>8} {'vs active':>9} {'vs rules':>8}")
    for m in rows:
        f, t = m.figures, m.trained_on
        test, act, rules = f.get("test") or {}, f.get("active") or {}, f.get("rules") or {}
        print(f"{m.version:>7}  {m.kind:<10} {'active' if m.active else '':<7} {format_time(m.created_at):<20} "
              f"{t.get('examples', 0):>9,} {len(t.get('labels', {})):>6} {test.get('accuracy', 0):>8.3f} "
              f"{_fmt(act.get('accuracy')):>9} {_fmt(rules.get('accuracy')):>8}")
    return 0


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) else "-"


def _say(args, data, text) -> None:
    print(json.dumps(data, indent=2) if args.json else text)
