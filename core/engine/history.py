"""Read-only views of earlier tickets, for the signals that need history.

Repeat contact and loops look across helpdesks and channels, where requester ids differ; so
history is matched by requester e-mail (lower-cased) and by organization (id, or name folded
to lower case). ``MemoryHistory`` serves a batch of tickets (``deskwatch score``); the store
provides the same view over everything it has seen.
"""

from __future__ import annotations

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
        for t in tickets:
            self.add(t)

    def add(self, t: Ticket) -> None:
        for k in {requester_key(t), organization_key(t)} - {None}:
            self._by_key[k].append(t)  # type: ignore[index]

    def related(self, ticket: Ticket, since: datetime | None = None) -> Sequence[Ticket]:
        seen: dict[str, Ticket] = {}
        for k in {requester_key(ticket), organization_key(ticket)} - {None}:
            for t in self._by_key.get(k, ()):  # type: ignore[arg-type]
                if t.id != ticket.id and (since is None or since <= t.created_at <= ticket.created_at):
                    seen[t.id] = t
        return sorted(seen.values(), key=lambda t: t.created_at)


class NoHistory:
    def related(self, ticket: Ticket, since: datetime | None = None) -> Sequence[Ticket]:
        return ()
