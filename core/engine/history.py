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
import operator
from datetime import datetime
from typing import Iterable, Protocol, Sequence

from deskwatch.core.model import Ticket

_ORDER = operator.attrgetter("created_at", "id")

# As the store's view (``TicketsMixin.history``): a big account's history is read as its most
# recent tickets only, so a decision costs the same in a batch of 5,000 or of 500,000.
DEFAULT_LIMIT = 50


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


class _KeyIndex:
    """One customer key's tickets ordered by (created_at, id), sorted lazily after adds."""

    __slots__ = ("tickets", "times", "dirty", "where")

    def __init__(self) -> None:
        self.tickets: list[Ticket] = []
        self.times: list[datetime] = []
        self.dirty = False
        # Position of each ticket id, or None when an id occurs twice (a batch with repeated
        # ids): then the lookups take the slower path that compares every id.
        self.where: dict[str, int] | None = None

    def add(self, t: Ticket) -> None:
        if self.tickets and not self.dirty:
            last = self.tickets[-1]
            self.dirty = (t.created_at, t.id) < (last.created_at, last.id)
        self.tickets.append(t)

    def ready(self) -> None:
        """Sorted, with times and positions, after adds."""
        if self.dirty or len(self.times) != len(self.tickets):
            self.tickets.sort(key=_ORDER)
            self.times = [t.created_at for t in self.tickets]
            self.dirty = False
            where = {t.id: k for k, t in enumerate(self.tickets)}
            self.where = where if len(where) == len(self.tickets) else None

    def newest(self, lo: datetime | None, hi: datetime | None, skip_id: str, limit: int) -> list[Ticket]:
        """Up to ``limit`` of the most recent tickets created in [lo, hi] (either end open when
        None), other than ``skip_id``; newest first. Only those are read, not the whole window."""
        self.ready()
        start = 0 if lo is None else bisect.bisect_left(self.times, lo)
        i = len(self.times) if hi is None else bisect.bisect_right(self.times, hi)
        # One slice with one spare for ``skip_id``, which is found by its position: the tickets
        # themselves are not read (a big account's are scattered in memory; reading each one's id
        # showed in the profile).
        lo_i = max(start, i - limit - 1)
        where = self.where
        if where is None:
            return [t for t in reversed(self.tickets[start:i]) if t.id != skip_id][:limit]
        seg = self.tickets[lo_i:i]
        k = where.get(skip_id)
        if k is not None and lo_i <= k < i:
            del seg[k - lo_i]
        seg.reverse()
        del seg[limit:]
        return seg


class MemoryHistory:
    """History over an in-memory batch of tickets.

    Indexed by customer key and creation time: a lookup bisects to the window and reads at
    most ``limit`` of the most recent related tickets, so deciding a batch grows linearly
    with its size however large an organization's share of it is."""

    def __init__(self, tickets: Iterable[Ticket] = (), limit: int = DEFAULT_LIMIT):
        self._by_key: dict[str, _KeyIndex] = {}
        self._limit = limit
        self._all: list[Ticket] = []
        self._times: dict[str, tuple[list[datetime], list[Ticket]]] | None = None  # sorted on first use (recent)
        for t in tickets:
            self.add(t)

    def add(self, t: Ticket) -> None:
        for k in {requester_key(t), organization_key(t)} - {None}:
            index = self._by_key.get(k)  # type: ignore[arg-type]
            if index is None:
                index = self._by_key[k] = _KeyIndex()  # type: ignore[index]
            index.add(t)
        self._all.append(t)
        self._times = None

    def related(self, ticket: Ticket, since: datetime | None = None) -> Sequence[Ticket]:
        hi = ticket.created_at if since is not None else None
        lists: list[list[Ticket]] = []
        unique = True  # no id twice in the indexes read
        for k in (requester_key(ticket), organization_key(ticket)):
            index = self._by_key.get(k) if k else None
            if index is not None:
                found = index.newest(since, hi, ticket.id, self._limit)
                if found:
                    lists.append(found)
                    unique = unique and index.where is not None
        if not lists:
            return []
        newest = lists[-1]  # the organization's when both keys have tickets
        if unique:
            if len(lists) == 1:
                newest.reverse()  # newest first -> oldest first, by (created_at, id) as the index keeps them
                return newest
            # Usually the requester's tickets are among their organization's (the same objects:
            # ``add`` puts one ticket under both keys): then the union is the organization's list
            # as it is, with no merge and no sort. Checked by identity, so no ticket is read.
            theirs = set(map(id, newest))
            if all(map(theirs.__contains__, map(id, lists[0]))):
                newest.reverse()
                return newest
        found_by_id: dict[str, Ticket] = {}
        for got in lists:
            for t in got:
                found_by_id[t.id] = t
        return sorted(found_by_id.values(), key=_ORDER)[-self._limit :]

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
