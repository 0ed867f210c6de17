"""`deskwatch score`: JSON Lines tickets in, one JSON decision per line out.

    deskwatch score [--config FILE] [--now ISO8601] [--format json|table] [FILE|-]

A line that cannot be read (invalid JSON, no id or messages, a bad field, a date outside
1970-2200, nesting or numbers too large to read) or that the engine fails on is reported on
stderr as ``line N: <reason>``; the other lines are still scored and the exit code is 1. Each
decision is one line of strict JSON (never NaN). Without ``--now`` the current time is used.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterable

from deskwatch.core import config
from deskwatch.core.model import Decision, Ticket, TicketError, decision_to_dict, ticket_from_dict
from deskwatch.core.model.codec import MAX_YEAR, MIN_YEAR
from deskwatch.core.model.settings import ConfigError
from deskwatch.core.model.timeutil import format_time, parse_time, utcnow

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
    p.add_argument("--no-models", action="store_true", help="decide by the rules alone, without the store's learned models")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Reading:
    """What came out of the input: tickets with their line numbers, and ``(line, reason)``
    for each line that could not be read."""

    tickets: list[Ticket]
    lines: list[int]  # lines[i] is the input line of tickets[i]
    errors: list[tuple[int, str]]


def read_tickets(lines: Iterable[str | bytes]) -> tuple[list[Ticket], list[str]]:
    """Tickets from JSON Lines, and one ``line N: reason`` per line that could not be read."""
    reading = read_lines(lines)
    return reading.tickets, [f"line {n}: {reason}" for n, reason in reading.errors]


def read_lines(lines: Iterable[str | bytes]) -> Reading:
    """Tickets from JSON Lines with their line numbers; a bad line is an error, never an exception."""
    tickets: list[Ticket] = []
    numbers: list[int] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                errors.append((n, f"not UTF-8 text (byte {e.start + 1}); save the file as UTF-8"))
                continue
        if not line.strip():
            continue
        try:
            ticket = _read_line(line)
        except TicketError as e:
            errors.append((n, str(e)))
            continue
        if ticket.id in seen:
            errors.append((n, f"id {ticket.id!r} already given on line {seen[ticket.id]}; ids must be unique"))
            continue
        seen[ticket.id] = n
        tickets.append(ticket)
        numbers.append(n)
    return Reading(tickets, numbers, errors)


def _read_line(line: str) -> Ticket:
    """One ticket from one line; every way the line can be wrong is a TicketError."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise TicketError(f"not valid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise TicketError("not readable: brackets nested too deeply") from None
    except ValueError as e:  # an integer longer than Python's limit (4300 digits)
        reason = "a number has too many digits" if "digits" in str(e) else _short(e)
        raise TicketError(f"not readable: {reason}") from None
    try:
        return ticket_from_dict(data)
    except TicketError:
        raise
    except RecursionError:
        raise TicketError("not readable: nested too deeply") from None
    except Exception as e:  # noqa: BLE001 - one strange line must not cost the other lines
        raise TicketError(f"could not read the ticket ({type(e).__name__}: {_short(e)})") from None


def _short(e: BaseException) -> str:
    text = str(e)
    return text if len(text) <= 200 else text[:197] + "..."


def decide_lines(reading: Reading, cfg: config.Config, now: datetime, extra_signals: tuple = (),
                 models: Any = None) -> tuple[list[Decision], list[tuple[int, str]]]:
    """Decisions for the tickets read, in input order; a ticket the engine fails on becomes
    ``(line, reason)`` and the others are decided as one batch (the batch is their history)."""
    from deskwatch.core.engine import decide_many

    tickets = reading.tickets
    try:
        return decide_many(tickets, cfg, now, extra_signals=extra_signals, models=models), []
    except ConfigError:
        raise
    except Exception:  # noqa: BLE001 - find the tickets at fault, decide the rest
        pass
    failed: dict[int, str] = {}
    _find_failures(list(range(len(tickets))), tickets, cfg, now, extra_signals, failed, models)
    keep = [i for i in range(len(tickets)) if i not in failed]
    decisions = decide_many([tickets[i] for i in keep], cfg, now, extra_signals=extra_signals, models=models)
    errors = [(reading.lines[i], f"could not be scored ({reason})") for i, reason in sorted(failed.items())]
    return decisions, errors


def _find_failures(idx: list[int], tickets: list[Ticket], cfg: config.Config, now: datetime,
                   extra_signals: tuple, failed: dict[int, str], models: Any = None) -> None:
    # Halving finds k bad tickets among n in about k * log2(n) batches.
    from deskwatch.core.engine import decide_many

    try:
        decide_many([tickets[i] for i in idx], cfg, now, extra_signals=extra_signals, models=models)
        return
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001
        if len(idx) == 1:
            failed[idx[0]] = f"{type(e).__name__}: {_short(e)}"
            return
    mid = len(idx) // 2
    _find_failures(idx[:mid], tickets, cfg, now, extra_signals, failed, models)
    _find_failures(idx[mid:], tickets, cfg, now, extra_signals, failed, models)


def run(args: argparse.Namespace) -> int:
    """``deskwatch score``: read, decide and write with the cyclic garbage collector paused.

    A batch is read, decided and written in one go and makes no reference cycles; with the
    collector on, every collection walks the growing batch again (tickets read, texts,
    decisions), which cost about a tenth of a 20,000-ticket run. The batch's objects are freed
    by reference counting when ``_score`` returns, before the collector is turned back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _score(args)
    finally:
        if was_enabled:
            gc.enable()


def _score(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError

    cfg = config.load(args.config)
    if args.now:
        try:
            now = parse_time(args.now)
        except ValueError as e:
            raise UsageError(f"--now: {e}") from None
        if not MIN_YEAR <= now.year <= MAX_YEAR:
            raise UsageError(f"--now: year {now.year} is outside {MIN_YEAR}-{MAX_YEAR}; give a time such as 2026-11-23T10:00:00Z")
    else:
        now = utcnow()  # the clock is read here, at the edge; the engine takes it as input
    if args.file == "-":
        # bytes when possible, so one badly encoded line is reported instead of aborting the run
        reading = read_lines(getattr(sys.stdin, "buffer", sys.stdin))
    else:
        try:
            with open(args.file, "rb") as f:
                reading = read_lines(f)
        except OSError as e:
            raise UsageError(f"cannot read {args.file}: {e.strerror}") from None
    decisions, failed = decide_lines(reading, cfg, now, _plugin_signals(cfg), _models(cfg, args))
    errors = reading.errors + failed
    out = sys.stdout
    if args.format == "table":
        write_table(decisions, out)
    else:
        line_of = dict(zip((t.id for t in reading.tickets), reading.lines))
        chunk: list[str] = []
        for d in decisions:
            text = _json_line(d)
            if text is None:
                errors.append((line_of[d.ticket_id], "the decision holds a value that is not a number (NaN or "
                                                     "Infinity); check the numbers in the config"))
                continue
            chunk.append(text)
            if len(chunk) >= _CHUNK:
                _write_all(out, chunk)
                chunk = []
        _write_all(out, chunk)
    out.flush()
    for n, reason in sorted(errors):
        print(f"line {n}: {reason}", file=sys.stderr)
    return 1 if errors else 0


# One encoder for every line: json.dumps with options builds a new encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_CHUNK = 256  # lines written at a time


def _json_line(d: Decision) -> str | None:
    """The decision as one line of strict JSON (no NaN), or None when it cannot be."""
    try:
        return _ENCODE(decision_to_dict(d)) + "\n"
    except ValueError:
        return None


def _write_all(out: IO[str], lines: list[str]) -> None:
    """``lines`` in one write; a line the output cannot carry is written escaped (``_write``)."""
    if not lines:
        return
    try:
        out.write("".join(lines))
    except UnicodeEncodeError:
        for text in lines:
            _write(out, text)


def _write(out: IO[str], text: str) -> None:
    try:
        out.write(text)
    except UnicodeEncodeError:
        # An output that cannot carry the text (a non-UTF-8 terminal): the same JSON, escaped.
        out.write(json.dumps(json.loads(text), ensure_ascii=True) + "\n")


def _models(cfg: config.Config, args: argparse.Namespace):
    """The store's active learned models, when there are any and they are wanted; a model that
    does not load is named on stderr and the rules decide without it."""
    if args.no_models or not cfg.learn.use_models or (
            not cfg.store.url and not Path(cfg.store.path).expanduser().exists()):
        return None
    from deskwatch.core.learn.load import load_active
    from deskwatch.core.store import open_store

    from deskwatch.core.store.migrations import StoreError

    try:
        store = open_store(cfg)
    except StoreError as e:  # the store is for the daemon; scoring a file does not need it
        print(f"deskwatch score: not using learned models: {e}", file=sys.stderr)
        return None
    try:
        models, problems = load_active(store)
    finally:
        store.close()
    for p in problems:
        print(f"deskwatch score: {p}; deciding without it", file=sys.stderr)
    return models


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
