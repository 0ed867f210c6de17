"""The queue's columns: which ones a terminal width shows, how wide each is, and how each sorts.

Widths follow the terminal: fixed columns keep their width, the flexible ones (id, customer,
team, assignee) grow from their minimum to their ideal as room allows, and the subject takes the
rest. At 200 columns every flexible column has its ideal width, so customers and teams are not
cut; below ``WIDE`` the channel column goes (the id already says which helpdesk), below 100 the age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from deskwatch.core.store import QueueRow
from deskwatch.core.store.decisions import rec_rank


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    min: int
    ideal: int = 0  # 0: fixed at ``min``
    from_width: int = 0  # shown on terminals at least this wide


WIDE = 120  # terminal columns from which the channel column shows
COLUMNS = (
    Column("urg", "Urg", 5), Column("score", "Scr", 3), Column("sla", "SLA", 6),
    Column("id", "Ticket", 6, 14), Column("ch", "Ch", 4, from_width=WIDE), Column("customer", "Customer", 9, 32),
    Column("subject", "Subject", 12), Column("team", "Team", 6, 18), Column("assignee", "Agent", 6, 18),
    Column("age", "Age", 3, from_width=100),
)
SCROLLBAR = 2


def shown(width: int) -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS if width >= c.from_width)


def widths(width: int) -> dict[str, int]:
    """Column key -> width for a terminal ``width`` wide (cell padding of 1 each side)."""
    cols = shown(width)
    room = width - 2 * len(cols) - SCROLLBAR
    out = {c.key: c.min for c in cols}
    subject = next(c for c in cols if c.key == "subject")
    flexible = [c for c in cols if c.ideal > c.min]
    spare = room - sum(out.values())
    want = sum(c.ideal - c.min for c in flexible)
    if spare > 0 and want:
        share = min(1.0, (spare * 2 // 3) / want)  # the subject keeps a third of the spare room, at least
        for c in flexible:
            out[c.key] += int((c.ideal - c.min) * share)
    out["subject"] = max(subject.min, room - sum(v for k, v in out.items() if k != "subject"))
    return out


_NO_DUE = datetime(1970, 1, 1, tzinfo=timezone.utc)


def urgency_key(row: QueueRow) -> tuple:
    """The store's queue order (rec rank, score, SLA due soonest, id) as a Python key."""
    due = (0, row.sla_due_at) if row.sla_due_at is not None else (1, _NO_DUE)
    return (-rec_rank(row.recommendation), -row.score, due, row.ticket_id)


def _text(value: str | None) -> tuple:
    return (value is None or value == "", (value or "").casefold())  # empty last


SORTS: dict[str, tuple[str, Callable[[QueueRow], tuple]]] = {  # column key -> (name, key: ascending = how people read it)
    "urg": ("urgency", urgency_key),
    "score": ("score", lambda r: (-r.score, *urgency_key(r))),
    "sla": ("SLA due", lambda r: ((1, _NO_DUE) if r.sla_due_at is None else (0, r.sla_due_at), *urgency_key(r))),
    "id": ("ticket", lambda r: (r.source, len(r.ticket_id), r.ticket_id)),
    "ch": ("channel", lambda r: (r.channel, *urgency_key(r))),
    "customer": ("customer", lambda r: (*_text(r.organization or r.customer_name or r.customer_email), *urgency_key(r))),
    "subject": ("subject", lambda r: (*_text(r.subject), *urgency_key(r))),
    "team": ("team", lambda r: (*_text(r.team), *urgency_key(r))),
    "assignee": ("assignee", lambda r: (*_text(r.assignee), *urgency_key(r))),
    "age": ("age", lambda r: (r.created_at, r.ticket_id)),  # oldest first
}
