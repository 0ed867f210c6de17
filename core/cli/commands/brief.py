"""`deskwatch brief TICKET_ID`: the handoff brief for a ticket, readable in under a minute.

    deskwatch brief TICKET_ID [--format text|html|json] [--days N] [--config FILE]

The ask in the customer's words, what has been tried, customer and account (with their other
tickets of the last N days on any helpdesk), sentiment, SLA, why and where it was escalated,
and the top three similar solved tickets. ``html`` is escaped HTML for helpdesks whose notes
take HTML; ``json`` is the same sections as data.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from deskwatch.core import config
from deskwatch.core.model.timeutil import parse_time, utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "brief", help="print the handoff brief for a ticket", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("ticket_id", metavar="TICKET_ID", help="a stored ticket id, e.g. zendesk:1001")
    p.add_argument("--config", "-c", metavar="FILE", help="config file")
    p.add_argument("--format", choices=("text", "html", "json"), default="text", help="text (default), html or json")
    p.add_argument("--days", type=int, default=30, metavar="N", help="the customer's other tickets of the last N days (default 30)")
    p.add_argument("--now", metavar="ISO8601", help="pin the clock, e.g. 2026-11-23T10:00:00Z (default: now)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError, stored_ticket
    from deskwatch.core.engine.text import new_text
    from deskwatch.core.policy.brief import brief_to_dict, build_brief, render_html, render_text
    from deskwatch.core.store import open_store

    if not 1 <= args.days <= 3650:
        raise UsageError(f"--days must be between 1 and 3650, got {args.days}")
    try:
        now = parse_time(args.now) if args.now else utcnow()
    except ValueError as e:
        raise UsageError(f"--now: {e}") from None
    cfg = config.load(args.config)
    store = open_store(cfg)
    try:
        ticket = stored_ticket(store, args.ticket_id, cfg)
        decision = store.latest_decision(ticket.id)
        related = [t for t in store.history(limit=20).related(ticket) if t.created_at >= now - timedelta(days=args.days)]
        similar = store.similar(ticket, now=now, limit=3, decision=decision)
    finally:
        store.close()
    brief = build_brief(ticket, decision, now=now, related=related, similar=similar, related_days=args.days,
                        clean=new_text)
    if args.format == "json":
        print(json.dumps(brief_to_dict(brief), ensure_ascii=False, indent=2))
    elif args.format == "html":
        print(render_html(brief))
    else:
        print(render_text(brief))
    return 0
