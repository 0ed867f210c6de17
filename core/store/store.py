"""``Store``: the one object the daemon, the CLI and the console open on the SQLite file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from deskwatch.core.model import Decision, Ticket
from deskwatch.core.store.audit import AuditMixin
from deskwatch.core.store.decisions import DecisionsMixin
from deskwatch.core.store.escalations import EscalationsMixin
from deskwatch.core.store.fleet import FleetMixin
from deskwatch.core.store.models import ModelsMixin
from deskwatch.core.store.notifications import NotificationsMixin
from deskwatch.core.store.outbox import OutboxMixin
from deskwatch.core.store.queue import QueueMixin
from deskwatch.core.store.search import SimilarCase, similar_to
from deskwatch.core.store.status import StatusMixin
from deskwatch.core.store.tickets import TicketsMixin


class Store(TicketsMixin, DecisionsMixin, AuditMixin, OutboxMixin, EscalationsMixin, StatusMixin, QueueMixin, ModelsMixin,
            NotificationsMixin, FleetMixin):
    """The deskwatch store: one SQLite file (WAL mode: one daemon and several consoles at once),
    or one PostgreSQL database (``Store(url=...)``: daemons and consoles on any host).

    Opening migrates an older store and refuses a newer one (``StoreVersionError``). Each
    concern lives in its own module; this class only puts them together.
    """

    def similar(self, ticket: Ticket, *, now: datetime, limit: int = 5, decision: Decision | None = None) -> list[SimilarCase]:
        """Solved or closed tickets like ``ticket``, best first (``search.similar_to``)."""
        with self._lock:
            return similar_to(self._conn, ticket, now=now, limit=limit, decision=decision)


def open_store(cfg: Any) -> Store:
    """Open the store a loaded ``Config`` names: PostgreSQL at ``cfg.store.url`` when set,
    else the SQLite file at ``cfg.store.path`` (folders are created as needed)."""
    url = getattr(cfg.store, "url", None)
    if url:
        return Store(url=url)
    return Store(Path(cfg.store.path))
