"""`deskwatch queue`: the aggregated queue from the store, most urgent first (what the console shows)."""

from __future__ import annotations

import argparse
import json

from deskwatch.core import config
from deskwatch.core.model.timeutil import format_time, utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queue", help="print the queue, most urgent first", description=__doc__)
    p.add_argument("--config", "-c", metavar="FILE", help="config file")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="rows to show (default 20)")
    p.add_argument("--source", help="only this source")
    p.add_argument("--team", help="only this team")
    p.add_argument("--needs-review", action="store_true", help="only decisions that need a human look")
    p.set_defaults(func=run)


def row_dict(r, now=None) -> dict:
    """One queue row as JSON. ``snoozed`` (with ``snoozed_until``), ``overridden`` and ``held``
    (escalated by hand) are what the console marks z, o and h; ``hold`` names which holds."""
    snoozed = r.snoozed_until is not None and (now is None or r.snoozed_until > now)
    return {
        "ticket_id": r.ticket_id, "source": r.source, "channel": r.channel, "subject": r.subject,
        "customer": r.customer_name or r.customer_email, "organization": r.organization, "annual_value": r.annual_value,
        "score": round(r.score, 1), "recommendation": r.recommendation, "tier": r.tier, "team": r.team,
        "assignee": r.assignee, "sla_state": r.sla_state, "sla_due_at": format_time(r.sla_due_at) if r.sla_due_at else None,
        "needs_review": r.needs_review, "confidence": r.confidence, "acknowledged": r.acknowledged,
        "created_at": format_time(r.created_at),
        "snoozed": snoozed, "snoozed_until": format_time(r.snoozed_until) if snoozed else None,
        "hold": r.hold, "overridden": r.hold == "override", "held": r.hold == "escalate",
        "attention": getattr(r, "attention", None),
    }


def format_rows(rows, now) -> str:
    lines = [f"{'URGENCY':<9} {'SCORE':>5} {'SLA':<9} {'SOURCE/CH':<18} {'TEAM':<11} SUBJECT"]
    for r in rows:
        due = "-"
        if r.sla_due_at is not None:
            mins = int((r.sla_due_at - now).total_seconds() // 60)
            due = f"{mins}m" if abs(mins) < 120 else f"{mins // 60}h"
            if r.sla_state == "breached":
                due = "BREACHED"
        lines.append(f"{(r.recommendation or '?'):<9} {r.score:>5.0f} {due:<9} {(r.source + '/' + r.channel)[:18]:<18} "
                     f"{(r.team or '-')[:11]:<11} {r.subject[:60]}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.store import QueueFilter, open_store

    cfg = config.load(args.config)
    store = open_store(cfg)
    now = utcnow()
    try:
        rows = store.queue(QueueFilter(source=args.source, team=args.team, needs_review=True if args.needs_review else None),
                           limit=max(1, args.limit), now=now)
        alive = store.status(now).daemon.alive if not rows else True
    finally:
        store.close()
    if args.json:
        for r in rows:
            print(json.dumps(row_dict(r, now)))
    else:
        print(format_rows(rows, now) if rows else empty_message(args, alive))
    return 0


def empty_message(args: argparse.Namespace, daemon_alive: bool) -> str:
    """Why nothing is shown: the filter matched nothing, or (no daemon heartbeat) nothing was synced."""
    narrowed = [f"--{k} {v}" for k, v in (("source", args.source), ("team", args.team)) if v]
    if args.needs_review:
        narrowed.append("--needs-review")
    if daemon_alive:
        if narrowed:
            return f"no ticket matches {' '.join(narrowed)} (the daemon is running); drop a filter to see the whole queue"
        return "the queue is empty: the daemon is running and no open ticket is waiting"
    what = f"no ticket matches {' '.join(narrowed)}" if narrowed else "the queue is empty"
    return f"{what}; is the daemon running? no heartbeat from it: start it with `deskwatch daemon`, see `deskwatch status`"
