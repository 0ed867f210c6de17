"""Counting handoff notes from the store: did a ticket get a second one without new information?

A handoff note (``actions.handoff_note``) tells the agent who picks the ticket up what deskwatch
decided. A second one for the same ticket is right when something new came up between the two:
the recommendation rose, a new hard trigger fired, the escalation chain moved to another step,
or a person acted (in the console, or by answering in the helpdesk). Otherwise it is deskwatch
reacting to its own write-back, which ``core/daemon/writeback.py`` prevents; ``deskwatch demo``
prints this count so that stays visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from deskwatch.core.daemon.writeback import HANDOFF_PREFIX, what_is_new
from deskwatch.core.model import Decision
from deskwatch.core.store.decisions import ENGINE_ACTOR


@dataclass(frozen=True)
class HandoffCount:
    tickets: int  # tickets with at least one handoff note
    notes: int
    again: int  # tickets with more than one
    # (ticket, time of the repeated note) for each note that followed another without anything new
    repeated: tuple[tuple[str, datetime], ...] = ()

    @property
    def repeated_tickets(self) -> int:
        return len({t for t, _ in self.repeated})

    def summary(self) -> str:
        """One line for a closing summary."""
        return (f"handoff notes: {self.tickets} tickets ({self.notes} notes), {self.again} with more than one, "
                f"{self.repeated_tickets} with a second note without new information")


def _decision_at(decisions: Sequence[Decision], at: datetime) -> Decision | None:
    """The ticket's latest decision made at or before ``at`` (the one that planned a note then)."""
    found = None
    for d in decisions:
        if d.decided_at <= at:
            found = d
    return found


def count_handoffs(store: Any) -> HandoffCount:
    """Handoff notes in the outbox (queued or sent), and those repeated without new information."""
    by_ticket: dict[str, list[Any]] = {}
    for item in store.outbox_notes(HANDOFF_PREFIX):
        by_ticket.setdefault(item.ticket_id, []).append(item)
    repeated: list[tuple[str, datetime]] = []
    for tid, items in by_ticket.items():
        if len(items) < 2:
            continue
        decisions = store.decisions_for(tid)
        people = [r.at for r in store.audit_for(tid) if r.actor != ENGINE_ACTOR]
        for first, second in zip(items, items[1:]):
            a, b = _decision_at(decisions, first.created_at), _decision_at(decisions, second.created_at)
            person = any(first.created_at <= at <= second.created_at for at in people)
            if not person and (a is None or b is None or what_is_new(b, a) is None):
                repeated.append((tid, second.created_at))
    notes = sum(len(v) for v in by_ticket.values())
    again = sum(1 for v in by_ticket.values() if len(v) > 1)
    return HandoffCount(len(by_ticket), notes, again, tuple(repeated))
