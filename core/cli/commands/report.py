"""`deskwatch report`: escalation metrics over the store (docs/report.md).

    deskwatch report [--since DATE] [--until DATE] [--by team|tier|source|channel|week]
                     [--format table|json|csv] [--config FILE]

Covers the tickets created from --since (inclusive) to --until (exclusive); dates are
YYYY-MM-DD or ISO 8601 times. Each figure says how many tickets it rests on.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone

from deskwatch.core import config
from deskwatch.core.model.timeutil import format_time, parse_time


def register(sub: argparse._SubParsersAction) -> None:
    from deskwatch.core.report.metrics import GROUPINGS

    p = sub.add_parser("report", help="escalation metrics over the store (rates, timing, accuracy, SLA, alarm load)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", metavar="FILE", help="config file (its [store] path is read)")
    p.add_argument("--since", metavar="DATE", help="first day (inclusive), e.g. 2026-11-01")
    p.add_argument("--until", metavar="DATE", help="end (exclusive), e.g. 2026-12-01")
    p.add_argument("--by", choices=GROUPINGS, help="also show the main figures per team, tier, source, channel or week")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=run)


def parse_date(text: str, flag: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time; UsageError naming the flag otherwise."""
    from deskwatch.core.cli import UsageError

    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=timezone.utc)
        return parse_time(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date; give YYYY-MM-DD or an ISO 8601 time such as 2026-11-01T00:00:00Z") from None


def period_from(args: argparse.Namespace):
    """The period of --since/--until; UsageError when it is backwards or empty."""
    from deskwatch.core.cli import UsageError
    from deskwatch.core.report import Period

    since = parse_date(args.since, "--since") if args.since else None
    until = parse_date(args.until, "--until") if args.until else None
    if since is not None and until is not None and since >= until:
        raise UsageError(f"--since {args.since} is not before --until {args.until}; the period would be empty. "
                         "Swap them or widen the period")
    return Period(since, until)


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError
    from deskwatch.core.policy import calendar as cal_mod
    from deskwatch.core.report import build, load, render_text, store_has_history
    from deskwatch.core.store import open_store

    period = period_from(args)
    cfg = config.load(args.config)
    store = open_store(cfg)
    try:
        if not store_has_history(store):
            raise UsageError(f"the store at {cfg.store.where} has no decisions yet: run the daemon (deskwatch daemon) or "
                             "the demo (deskwatch demo) first, or point --config at the store that has them")
        facts = load(store, period)
    finally:
        store.close()
    if not facts:
        raise UsageError(f"no tickets were created from {_day(period.since) or 'the beginning'} to "
                         f"{_day(period.until) or 'now'}; widen --since/--until")
    cal = cfg.sla.calendar()
    zone = cal.zone

    def night_of(t: datetime) -> date:
        # a night runs from noon to noon local time: a page at 02:00 belongs to the evening before
        return (t.astimezone(zone) - timedelta(hours=12)).date()

    rep = build(facts, since=_day(period.since), until=_day(period.until),
                is_business=lambda t: cal_mod.in_business_hours(cal, t), night_of=night_of, by=args.by)
    sys.stdout.write(render_text(rep, args.format))
    return 0


def _day(t: datetime | None) -> str | None:
    return format_time(t) if t is not None else None
