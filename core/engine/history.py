"""Read-only views of earlier tickets, for the signals that need history.

Repeat contact and loops look across helpdesks and channels, where requester ids differ; so
history is matched by requester e-mail (lower-cased) and by organization (id, or name folded
to lower case). ``MemoryHistory`` serves a batch of tickets (``deskwatch score``); the store
provides the same view over everything it has seen.

Cross-ticket incidents look the other way: at every customer's tickets active in a short time
window (``recent``), bounded in number so a busy hour costs a fixed amount per decision.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import datetime
from typing import Iterable, Protocol, Sequence

from deskwatch.core.model import Ticket


class HistoryView(Protocol):
    def related(self, ticket: Ticket, since: datetime | None = None) -> Sequence[Ticket]:
        """Other tickets (never ``ticket`` itself) from the same requester or organization,
        from any source and channel, oldest first; with ``since``, only those created from
        then up to ``ticket.created_at`` (the window a signal looks at, so a big account's
        long history is not read for every decision)."""
        ...

    def recent(self, since: datetime, until: datetime, limit: int) -> Sequence[Ticket]:
        """Tickets of any customer, source and channel created or updated from ``since`` to
        ``until`` (both included), latest activity in the window first, at most ``limit``.
        (A view without it finds no incidents; see ``recent_tickets``.)"""
        ...


def recent_tickets(history: object, since: datetime, until: datetime, limit: int) -> Sequence[Ticket]:
    """``history.recent(...)``, or nothing for a view written before ``recent`` existed (a
    plugin's or a test's), so such a view still works for every other signal."""
    recent = getattr(history, "recent", None)
    return recent(since, until, limit) if recent is not None else ()


def requester_key(t: Ticket) -> str | None:
    r = t.requester
    if r is None:
        return None
    if r.email:
        return "email:" + r.email.lower()
    return f"id:{t.source}:{r.id}" if r.id else None


def organization_key(t: Ticket) -> str | None:
    o = t.organization
    if o is None:
        return None
    if o.name:
        return "name:" + " ".join(o.name.lower().split())
    return f"id:{t.source}:{o.id}" if o.id else None


class MemoryHistory:
    """History over an in-memory batch of tickets."""

    def __init__(self, tickets: Iterable[Ticket] = ()):
        self._by_key: dict[str, list[Ticket]] = defaultdict(list)
        self._all: list[Ticket] = []
        self._times: dict[str, tuple[list[datetime], list[Ticket]]] | None = None  # sorted on first use
        for t in tickets:
            self.add(t)

    def add(self, t: Ticket) -> None:
        for k in {requester_key(t), organization_key(t)} - {None}:
            self._by_key[k].append(t)  # type: ignore[index]
        self._all.append(t)
        self._times = None

    def related(self, ticket: Ticket, since: datetime | None = None) -> Sequence[Ticket]:
        seen: dict[str, Ticket] = {}
        for k in {requester_key(ticket), organization_key(ticket)} - {None}:
            for t in self._by_key.get(k, ()):  # type: ignore[arg-type]
                if t.id != ticket.id and (since is None or since <= t.created_at <= ticket.created_at):
                    seen[t.id] = t
        return sorted(seen.values(), key=lambda t: t.created_at)

    def recent(self, since: datetime, until: datetime, limit: int) -> Sequence[Ticket]:
        if self._times is None:
            self._times = {}
            for attr in ("created_at", "updated_at"):
                ordered = sorted(self._all, key=lambda t: getattr(t, attr))
                self._times[attr] = ([getattr(t, attr) for t in ordered], ordered)
        found: dict[str, tuple[datetime, Ticket]] = {}
        for times, ordered in self._times.values():
            lo, hi = bisect.bisect_left(times, since), bisect.bisect_right(times, until)
            for i in range(hi - 1, max(lo, hi - limit) - 1, -1):  # the latest ``limit`` of each
                t = ordered[i]
                if t.id not in found or found[t.id][0] < times[i]:
                    found[t.id] = (times[i], t)
        latest = sorted(found.values(), key=lambda x: (x[0], x[1].id), reverse=True)
        return [t for _, t in latest[:limit]]


class NoHistory:
    def related(self, ticket: Ticket, since: datetime | None = None) -> Sequence[Ticket]:
        return ()

    def recent(self, since: datetime, until: datetime, limit: int) -> Sequence[Ticket]:
        return ()
