"""`deskwatch score`: JSON Lines tickets in, one JSON decision per line out.

    deskwatch score [--config FILE] [--now ISO8601] [--format json|table] [FILE|-]

A line that cannot be read (invalid JSON, no id or messages, a bad field) is reported on stderr
as ``line N: <reason>``; the other lines are still scored and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Iterable

from deskwatch.core import config
from deskwatch.core.model.timeutil import format_time
from deskwatch.core.model import Decision, Ticket, TicketError, decision_to_dict, ticket_from_dict
from deskwatch.core.model.timeutil import parse_time, utcnow

BAR_WIDTH = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score tickets (JSON Lines) and print escalation decisions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE", help="JSON Lines tickets; - or nothing reads stdin")
    p.add_argument("--config", "-c", metavar="FILE", help="config file (default: $DESKWATCH_CONFIG or built-in defaults)")
    p.add_argument("--now", metavar="ISO8601", help="pin the clock, e.g. 2026-11-23T10:00:00Z (default: now)")
    p.add_argument("--format", choices=("json", "table"), default="json", help="json (one object per line) or table")
    p.set_defaults(func=run)


def read_tickets(lines: Iterable[str | bytes]) -> tuple[list[Ticket], list[str]]:
    """Tickets from JSON Lines, and one ``line N: reason`` per line that could not be read."""
    tickets: list[Ticket] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                errors.append(f"line {n}: not UTF-8 text (byte {e.start + 1}); save the file as UTF-8")
                continue
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: not valid JSON ({e.msg} at column {e.colno})")
            continue
        try:
            ticket = ticket_from_dict(data)
        except TicketError as e:
            errors.append(f"line {n}: {e}")
            continue
        if ticket.id in seen:
            errors.append(f"line {n}: id {ticket.id!r} already given on line {seen[ticket.id]}; ids must be unique")
            continue
        seen[ticket.id] = n
        tickets.append(ticket)
    return tickets, errors


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError
    from deskwatch.core.engine import decide_many

    cfg = config.load(args.config)
    if args.now:
        try:
            now = parse_time(args.now)
        except ValueError as e:
            raise UsageError(f"--now: {e}") from None
    else:
        now = utcnow()
    if args.file == "-":
        # bytes when possible, so one badly encoded line is reported instead of aborting the run
        tickets, errors = read_tickets(getattr(sys.stdin, "buffer", sys.stdin))
    else:
        try:
            with open(args.file, "rb") as f:
                tickets, errors = read_tickets(f)
        except OSError as e:
            raise UsageError(f"cannot read {args.file}: {e.strerror}") from None
    for err in errors:
        print(err, file=sys.stderr)
    decisions = decide_many(tickets, cfg, now, extra_signals=_plugin_signals(cfg))
    out = sys.stdout
    if args.format == "table":
        write_table(decisions, out)
    else:
        for d in decisions:
            out.write(json.dumps(decision_to_dict(d), ensure_ascii=False) + "\n")
    out.flush()
    return 1 if errors else 0


def _plugin_signals(cfg: config.Config) -> tuple:
    """Signal functions contributed by installed plugins, in name order (stable output)."""
    try:
        from deskwatch.core.connect import plugins
    except ImportError:
        return ()
    plugins.get_plugin_manager(cfg)
    return tuple(fn for _, fn in sorted(plugins.signal_functions().items()))


def _bar(points: float, scale: float) -> str:
    filled = int(round(BAR_WIDTH * min(1.0, points / scale))) if scale > 0 else 0
    return "█" * filled + "·" * (BAR_WIDTH - filled)


def write_table(decisions: Iterable[Decision], out: IO[str]) -> None:
    """A readable breakdown per ticket: verdict, then each signal's contribution as a bar."""
    for d in decisions:
        review = "  NEEDS REVIEW" if d.needs_review else ""
        out.write(f"{d.ticket_id}  score {d.score:5.1f}  {d.recommendation.upper():<9}  {d.tier}/{d.team or '-'}"
                  f"  confidence {d.confidence:.2f}{review}\n")
        scale = max([s.contribution for s in d.signals] + [1.0])
        for s in d.signals:
            hard = " HARD" if s.hard else ""
            out.write(f"  {s.name:<22} {_bar(s.contribution, scale)} {s.contribution:5.1f}{hard}  {s.detail}\n")
            if s.evidence:
                out.write(f"  {'':<22} {'':<{BAR_WIDTH}}        {'; '.join(s.evidence[:4])}\n")
        if not d.signals:
            out.write("  (no signal fired)\n")
        if d.sla is not None:
            targets = ", ".join(
                f"{t.name.replace('_', ' ')} {t.state}" + (f" (due {format_time(t.due_at)}, {t.elapsed_pct:.0f}% used)"
                                                            if t.due_at and t.state not in ("met",) else "")
                for t in d.sla.targets
            )
            out.write(f"  sla    {d.sla.policy}: {targets}\n")
        if d.route is not None:
            who = d.route.agent or "nobody free"
            on_call = " (on call)" if d.route.on_call else ""
            out.write(f"  route  {d.route.team} / {who}{on_call}: {d.route.reason}\n")
        if d.management is not None:
            out.write(f"  mgmt   {d.route.management if d.route and d.route.management else 'management'}: "
                      f"{'; '.join(d.management.reasons)}\n")
        if d.page:
            out.write(f"  PAGE   {d.page_reason}\n")
        for r in d.reasons:
            if r.startswith("low confidence:"):
                out.write(f"  ! {r}\n")
        out.write("\n")
