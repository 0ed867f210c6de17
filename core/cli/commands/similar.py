"""`deskwatch similar TICKET_ID`: solved tickets like this one, and how they were resolved.

    deskwatch similar TICKET_ID [--json] [--limit N] [--config FILE]

Searches the store's solved and closed tickets (full text, BM25) by the ticket's subject and
the customer's words, preferring the same organization, a shared trigger category and recent
tickets. Prints each with its score, how long it took and the last public agent reply before
it was solved.
"""

from __future__ import annotations

import argparse
import json

from deskwatch.core import config
from deskwatch.core.model.timeutil import format_time, utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "similar", help="show solved tickets similar to a ticket, and how they were resolved",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("ticket_id", metavar="TICKET_ID", help="a stored ticket id, e.g. zendesk:1001")
    p.add_argument("--config", "-c", metavar="FILE", help="config file")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--limit", type=int, default=5, metavar="N", help="results to show (default 5, at most 50)")
    p.set_defaults(func=run)


def took_text(seconds: float) -> str:
    """A duration for people: 45m, 5h, 3d."""
    mins = int(seconds // 60)
    return f"{mins}m" if mins < 120 else f"{mins // 60}h" if mins < 72 * 60 else f"{mins // 1440}d"


def case_dict(c) -> dict:
    return {
        "ticket_id": c.ticket_id, "subject": c.subject, "resolution": c.resolution, "score": c.score,
        "created_at": format_time(c.created_at), "solved_at": format_time(c.solved_at),
        "took_seconds": int(c.took.total_seconds()), "organization": c.organization,
        "same_organization": c.same_organization, "shared_categories": list(c.shared_categories),
    }


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError, stored_ticket
    from deskwatch.core.store import open_store

    if not 1 <= args.limit <= 50:
        raise UsageError(f"--limit must be between 1 and 50, got {args.limit}")
    cfg = config.load(args.config)
    store = open_store(cfg)
    try:
        ticket = stored_ticket(store, args.ticket_id, cfg)
        cases = store.similar(ticket, now=utcnow(), limit=args.limit, decision=store.latest_decision(ticket.id))
    finally:
        store.close()
    if args.json:
        for c in cases:
            print(json.dumps(case_dict(c), ensure_ascii=False))
        return 0
    if not cases:
        print(f"no similar solved tickets for {ticket.id} yet (only solved and closed tickets in the store are searched)")
        return 0
    for c in cases:
        marks = "".join(m for m, on in ((" [same org]", c.same_organization), (" [same trigger]", bool(c.shared_categories))) if on)
        print(f"{c.score:9.3g}  {c.ticket_id}  {c.subject[:70]}  (took {took_text(c.took.total_seconds())}){marks}")
        if c.resolution:
            print(f"           resolved: {c.resolution}")
    return 0
