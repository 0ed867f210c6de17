"""Deciding a stored ticket: the glue between the store (I/O) and the pure engine.

The daemon calls ``Decider.decide`` for every new or changed ticket, and ``advance_chains``
on each heartbeat so progressive escalation moves on while nothing else happens. The engine
gets everything as values: the ticket, a history view, the load snapshot, the chain state and
``now``; what it returns is recorded, and the updates it calls for go to the outbox.
"""

from __future__ import annotations

import logging
from datetime import datetime

from deskwatch.core import actions, engine
from deskwatch.core.chains import EscalationState
from deskwatch.core.config import Config
from deskwatch.core.model import AuditRecord, Decision, update_to_dict
from deskwatch.core.routing import LoadSnapshot
from deskwatch.core.store import AckState, Store

log = logging.getLogger("deskwatch.daemon")

ESCALATING = ("priority", "immediate")
CLOSED = ("solved", "closed")
ENGINE_ACTOR = "deskwatch"


def chain_state(ack: AckState | None) -> EscalationState | None:
    """The routing view of the store's acknowledgment row."""
    if ack is None or ack.started_at is None:
        return None
    expires = None
    if ack.acknowledged_at is not None and ack.expires_at is not None:
        expires = max(0, int((ack.expires_at - ack.acknowledged_at).total_seconds() // 60))
    return EscalationState(started_at=ack.started_at, acknowledged_at=ack.acknowledged_at, ack_expires_after=expires)


class Decider:
    def __init__(self, config: Config, store: Store):
        self.config = config
        self.store = store
        self._notify = None
        try:
            from deskwatch.core import plugins

            self._notify = plugins.notify_decision
        except ImportError:  # plugins are optional for the engine's callers
            pass

    def load_snapshot(self) -> LoadSnapshot:
        counts = self.store.load_counts()
        return LoadSnapshot(dict(counts.by_agent), dict(counts.by_team), dict(counts.last_assigned))

    def context(self, ticket_id: str) -> engine.DecisionContext:
        return engine.DecisionContext(
            history=self.store.history(),
            load=self.load_snapshot(),
            chain_state=chain_state(self.store.ack_state(ticket_id)),
        )

    def decide(self, ticket_id: str, now: datetime, *, write_back: bool) -> Decision | None:
        """Decide one stored ticket, record the decision and plan its write-back."""
        ticket = self.store.get_ticket(ticket_id)
        if ticket is None:
            return None
        previous = self.store.latest_decision(ticket_id)
        decision = engine.decide(ticket, self.config, now, self.context(ticket_id))
        self.store.record_decision(decision)
        if self._notify is not None:
            try:
                self._notify(decision, ticket)
            except Exception:  # a notification plugin must not stop the sync
                log.exception("a decision_made plugin failed", extra={"ticket": ticket_id})
        if ticket.status in CLOSED:
            self.store.reset_escalation(ticket_id)
        elif decision.recommendation in ESCALATING:
            self.store.start_escalation(ticket_id, now)
        updates = actions.plan_updates(ticket, decision, previous, write_back)
        for u in updates:
            self.store.enqueue(u, now)
        if not write_back and actions.newly_escalates(decision, previous):
            # Shadow mode: record what deskwatch would have written, so it can be reviewed.
            would = actions.plan_updates(ticket, decision, previous, True)
            self.store.append_audit(AuditRecord(ticket_id, "shadow", ENGINE_ACTOR, now,
                                                {"would_apply": [update_to_dict(u) for u in would]}))
        return decision

    def advance_chains(self, now: datetime) -> int:
        """Re-decide tickets whose progressive escalation has reached a new step since their
        last decision (the timers live in the store, so this also resumes after a restart)."""
        from deskwatch.core import routing, sla

        moved = 0
        in_hours = sla.in_business_hours(self.config.sla, now)
        load = self.load_snapshot()
        for ack in self.store.active_escalations(now):
            last = self.store.latest_decision(ack.ticket_id)
            ticket = self.store.get_ticket(ack.ticket_id)
            if last is None or last.route is None or ticket is None:
                continue
            request = routing.RouteRequest.from_decision(ticket, last, in_hours)
            step = routing.route(request, self.config.routing, load, now, chain_state(ack)).chain_step
            if step != last.route.chain_step:
                source = self.config.sources.get(ticket.source)
                self.decide(ack.ticket_id, now, write_back=bool(source and source.write_back))
                moved += 1
        return moved
