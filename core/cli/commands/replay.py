"""`deskwatch replay`: re-decide history as it unfolded, under a candidate config (docs/replay.md).

    deskwatch replay [--since DATE] [--until DATE] [--config CANDIDATE.toml] [--active FILE]
                     [--from FILE.jsonl] [--format table|json]

Every ticket created in the period is decided again at each of its customer messages, with only
what was known then, under the active config and the candidate; the two are compared with each
other and with what people did (the store's audit log). Nothing is written anywhere: this is
the way to try weights, thresholds and rules before turning on write_back.
"""

from __future__ import annotations

import argparse
import sys
import time

from deskwatch.core import config
from deskwatch.core.model.settings import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-decide stored history (or an export) under a candidate config and compare",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", metavar="CANDIDATE", help="the candidate config to try (default: the active one)")
    p.add_argument("--active", metavar="FILE",
                   help="the active config, whose [store] is read (default: $DESKWATCH_CONFIG or built-in defaults)")
    p.add_argument("--from", dest="source", metavar="FILE.jsonl", help="replay an export (JSON Lines tickets) instead of the store")
    p.add_argument("--since", metavar="DATE", help="tickets created from this day (inclusive)")
    p.add_argument("--until", metavar="DATE", help="tickets created before this day")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=run)


def load_candidate(path: str) -> config.Config:
    """The candidate config, checked completely (its analyzer too) before anything runs."""
    from deskwatch.core.engine.nlp import analyzer_for

    cfg = config.load(path)
    try:
        analyzer_for(cfg.nlp)
    except ConfigError as e:
        raise ConfigError(path, e.key, e.problem) from None
    return cfg


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError
    from deskwatch.core.cli.commands.report import period_from

    period = period_from(args)
    candidate = load_candidate(args.config) if args.config else None
    active = config.load(args.active)
    tickets, people, bad = _tickets(args, active, period)
    if not tickets:
        raise UsageError("no tickets were created in the period given; widen --since/--until" if (args.since or args.until)
                         else "nothing to replay: the input holds no tickets")
    from deskwatch.core.report.replay import replay_iter
    from deskwatch.core.report.replay_compare import compare, table, to_json

    # Without a candidate the active config alone is replayed and compared with people.
    runs = {"active": active} if candidate is None else {"active": active, "candidate": candidate}
    # Streamed: each ticket is folded into the comparison as it finishes, memory stays bounded.
    timelines = replay_iter(tickets, runs, progress=_progress())
    cmp = compare(timelines, people, "active", "candidate" if candidate is not None else "active")
    sys.stdout.write(to_json(cmp) if args.format == "json" else table(cmp))
    return 1 if bad else 0


def _tickets(args, active, period):
    """(tickets oldest first, people's actions by ticket, lines that could not be read)."""
    from deskwatch.core.cli import UsageError

    if args.source:
        from deskwatch.core.cli.commands.score import read_tickets

        try:
            with open(args.source, "rb") as f:
                tickets, errors = read_tickets(f)
        except OSError as e:
            raise UsageError(f"cannot read {args.source}: {e.strerror}") from None
        for err in errors:
            print(f"{args.source}: {err}", file=sys.stderr)
        tickets = sorted((t for t in tickets if period.contains(t.created_at)), key=lambda t: (t.created_at, t.id))
        return tickets, {}, errors
    from deskwatch.core.report import load
    from deskwatch.core.report.replay_compare import people_from
    from deskwatch.core.store import open_store

    store = open_store(active)
    try:
        if not store.ticket_count():
            raise UsageError(f"the store at {active.store.where} holds no tickets: run the daemon or the demo first, "
                             "point --active at the config of the store that has them, or replay an export with --from")
        facts = load(store, period)
        tickets = store.get_tickets([f.id for f in facts])
    finally:
        store.close()
    return tickets, people_from(facts), []


def _progress():
    """Progress on stderr when it is a terminal; nothing otherwise (scripts, logs)."""
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        rate = done / max(1e-6, time.monotonic() - started)
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rreplay: {done:,}/{total:,} customer messages decided ({rate:,.0f}/s)\033[K{end}")
        sys.stderr.flush()

    return show
