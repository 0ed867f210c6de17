"""Incident: the same failure reported by several customers at about the same time.

One customer's "500 Internal Server Error" may be theirs alone; three organizations reporting
server errors, an unreachable app or failing checkout within the hour, on any helpdesk, are one
incident. Each of those tickets gets this signal, naming the others, strong enough on its own
to make the ticket ``immediate``.

Symptoms are read by engine/symptoms.py and compared by family (a 502, "can't reach the app"
and failing API calls are one outage). The other reports come from the history view's
``recent`` (the store's, or the batch's for ``deskwatch score``), bounded in number. Settings:
``[escalation.incident]`` (``IncidentSettings``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Sequence

from deskwatch.core.engine.history import organization_key, recent_tickets, requester_key
from deskwatch.core.engine.symptoms import FAMILY_LABELS, Report
from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, make_signal

CATEGORY = "incident"
LOOKUP_LIMIT = 200  # other tickets read per decision, the most recently active first
SHOWN = 5  # other tickets named in the evidence


@dataclass(frozen=True)
class Sighting:
    """One ticket's report of a failure family: who, when, in which words."""

    ticket: Ticket
    customer: str
    at: datetime
    words: tuple[str, ...]


def customer_of(ticket: Ticket) -> str:
    """Whose report it is: the organization, else the requester, else the ticket alone."""
    return organization_key(ticket) or requester_key(ticket) or f"ticket:{ticket.id}"


def who(ticket: Ticket) -> str:
    o, r = ticket.organization, ticket.requester
    return (o.name if o and o.name else None) or (r.name or r.email if r else None) or "unknown customer"


def incident(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    s = ctx.config.incident
    live = _live_since(ctx.now, s.active_hours)
    if s.weight <= 0 or not _active_since(ticket, live):
        return None  # nothing said since ``live``: no need to read the text at all
    mine = ctx.text.symptoms
    if mine is None or mine.at < live:
        return None
    window = timedelta(minutes=s.window_minutes)
    # Reports after ``now`` have not happened yet (a file scored with an earlier --now).
    since, until = mine.at - window, min(mine.at + window, max(ctx.now, mine.at))
    families = mine.symptoms.families
    others: list[tuple[Ticket, Report]] = []
    text_of = ctx.texts.get
    for t in recent_tickets(ctx.history, since, until, LOOKUP_LIMIT):
        if t.id == ticket.id:
            continue
        theirs = text_of(t).symptoms
        if theirs is not None and since <= theirs.at <= until and not theirs.symptoms.families.isdisjoint(families):
            others.append((t, theirs))
    if len(others) + 1 < s.min_tickets:
        return None
    best: tuple[tuple[int, int], str, list[Sighting]] | None = None
    for fam in sorted(mine.symptoms.families):
        me = Sighting(ticket, customer_of(ticket), mine.at, mine.symptoms.words(fam))
        seen = [Sighting(t, customer_of(t), r.at, r.symptoms.words(fam)) for t, r in others if fam in r.symptoms.families]
        group = densest(me, seen, window)
        rank = (len({g.customer for g in group}), len(group))
        if best is None or rank > best[0]:
            best = (rank, fam, group)
    if best is None:
        return None
    (customers, count), fam, group = best
    if count < s.min_tickets or customers < s.min_organizations:
        return None
    return make_signal("incident", 1.0, s.weight, evidence(ticket, fam, group), detail(fam, group), category=CATEGORY)


@lru_cache(maxsize=8)
def _live_since(now: datetime, active_hours: float) -> datetime:
    # Asked once per ticket with the same ``now``: a batch computes it once.
    return now - timedelta(hours=active_hours)


def _active_since(ticket: Ticket, when: datetime) -> bool:
    if ticket.created_at >= when or ticket.updated_at >= when:
        return True
    return bool(ticket.messages) and ticket.messages[-1].created_at >= when


def densest(me: Sighting, seen: Sequence[Sighting], window: timedelta) -> list[Sighting]:
    """The reports within one ``window``-long span that includes ``me``, with the most
    customers (then the most tickets); ``me`` first, then the others by time.

    Reports at 0, 55 and 110 minutes are not one incident for the middle one with a 60-minute
    window: no 60-minute span holds all three."""
    reports = sorted((me, *seen), key=lambda g: (g.at, g.ticket.id))
    mine = next(i for i, g in enumerate(reports) if g is me)
    best: list[Sighting] = [me]
    best_rank = (1, 1)
    customers: Counter[str] = Counter()  # customers of reports[i:j]
    j = 0
    # Two pointers over the spans that start at a report no later than ``me``.
    for i in range(mine + 1):
        start = reports[i]
        if i:
            gone = reports[i - 1].customer
            customers[gone] -= 1
            if not customers[gone]:
                del customers[gone]
        while j < len(reports) and reports[j].at <= start.at + window:
            customers[reports[j].customer] += 1
            j += 1
        if start.at + window < me.at:
            continue  # this span ends before ``me``
        rank = (len(customers), j - i)
        if rank > best_rank:
            best_rank, best = rank, [me, *(g for g in reports[i:j] if g is not me)]
    return best


def evidence(ticket: Ticket, fam: str, group: Sequence[Sighting]) -> list[str]:
    others = group[1:]
    named = ", ".join(f"{g.ticket.id} ({who(g.ticket)})" for g in others[:SHOWN])
    more = f" and {len(others) - SHOWN} more" if len(others) > SHOWN else ""
    words: dict[str, str] = {}
    for g in group:
        for w in g.words:
            words.setdefault(w.lower(), w)
    span = max(g.at for g in group) - min(g.at for g in group)
    return [
        f"also reported by {named}{more}",
        "symptoms: " + ", ".join(f'"{w}"' for w in list(words.values())[:6]),
        f"{len(group)} tickets from {len({g.customer for g in group})} customers within {_minutes(span)}",
    ]


def detail(fam: str, group: Sequence[Sighting]) -> str:
    customers = len({g.customer for g in group})
    sources = sorted({g.ticket.source for g in group})
    where = f" on {', '.join(sources)}" if len(sources) > 1 else ""
    return (f"Incident: {customers} customers report the same failure ({FAMILY_LABELS.get(fam, fam)}){where} "
            f"within {_minutes(max(g.at for g in group) - min(g.at for g in group))}")


def _minutes(span: timedelta) -> str:
    m = max(1, round(span.total_seconds() / 60))
    return f"{m} minute{'s' if m != 1 else ''}"
