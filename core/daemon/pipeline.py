"""Deciding a stored ticket: the glue between the store (I/O) and the pure engine.

The daemon calls ``Decider.decide`` for every new or changed ticket, and ``advance_chains``
on each heartbeat so progressive escalation moves on while nothing else happens. The engine
gets everything as values: the ticket, a history view, the load snapshot, the chain state and
``now``; what it returns is recorded, and the updates it calls for go to the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Sequence

from deskwatch.core.policy import actions, brief as briefs, holds
from deskwatch.core.daemon import notify, writeback

from deskwatch.core import engine
from deskwatch.core.engine import learned
from deskwatch.core.learn.load import ActiveModels
from deskwatch.core.policy.chains import EscalationState, chain_step
from deskwatch.core.config import Config
from deskwatch.core.model import CLOSED_STATUSES, AuditRecord, Decision, Ticket, update_to_dict
from deskwatch.core.connect.contract import note_format
from deskwatch.core.connect.kit import text_to_html
from deskwatch.core.engine.nlp import SupportLayer, analyzer_for
from deskwatch.core.engine.text import new_text
from deskwatch.core.engine.history import HistoryView
from deskwatch.core.engine.signals import IncidentIndex, TextCache
from deskwatch.core.engine.signals.impact import OUTAGE, customer_key
from deskwatch.core.policy.routing import LoadSnapshot
from deskwatch.core.store import AckState, Store
from deskwatch.core.store.base import ts
from deskwatch.core.store.decisions import ENGINE_ACTOR

log = logging.getLogger("deskwatch.daemon")


def chain_state(ack: AckState | None) -> EscalationState | None:
    """The routing view of the store's acknowledgment row."""
    if ack is None or ack.started_at is None:
        return None
    expires = None
    if ack.acknowledged_at is not None and ack.expires_at is not None:
        expires = max(0, int((ack.expires_at - ack.acknowledged_at).total_seconds() // 60))
    return EscalationState(started_at=ack.started_at, acknowledged_at=ack.acknowledged_at, ack_expires_after=expires)


class Decider:
    """Decides stored tickets and records the outcome. Holds only caches (analyzed text of the
    current page, recent outage reports), never state the store does not also have."""

    OUTAGE_MEMORY = timedelta(hours=24)

    def __init__(self, config: Config, store: Store):
        self.config = config
        self.store = store
        esc, nlp = config.escalation, config.nlp
        self._esc, self._nlp = esc, nlp
        self._notify = None
        self._extra: tuple = ()
        # Outage reports seen recently, across customers and sources, for the impact signal.
        self._outages: dict[str, tuple[datetime, str, str]] = {}
        self._page: engine.DecisionContext | None = None  # the context of the page being decided
        # ticket -> (chain, step) of its last decision: the chain its route runs, if it named one
        self._chain_seen: dict[str, tuple[str | None, int | None]] = {}
        self._note_formats: dict[str, str] = {}  # source name -> "text" or "html"
        learn_cfg = getattr(config, "learn", None)
        self._models = ActiveModels(store, enabled=bool(getattr(learn_cfg, "use_models", True)))
        try:
            from deskwatch.core.connect import plugins

            self._notify = plugins.notify_decision
            self._extra = tuple(plugins.signal_functions().values())
        except ImportError:  # plugins are optional for the engine's callers
            pass

    def load_snapshot(self) -> LoadSnapshot:
        counts = self.store.load_counts()
        return LoadSnapshot(dict(counts.by_agent), dict(counts.by_team), dict(counts.last_assigned))

    def _texts(self) -> TextCache:
        return TextCache(self._esc, analyzer_for(self._nlp), SupportLayer(self._nlp))

    def _remember_outages(self, tickets: list[Ticket], texts: TextCache, now: datetime) -> IncidentIndex:
        for t in tickets:
            if OUTAGE in texts.get(t).hits:
                self._outages[t.id] = (t.created_at, customer_key(t), t.id)
        horizon = now - self.OUTAGE_MEMORY
        for tid in [k for k, v in self._outages.items() if v[0] < horizon]:
            del self._outages[tid]
        return IncidentIndex.build(self._outages.values())

    def decide_many(self, ticket_ids: Sequence[str], now: datetime, *, write_back: bool,
                    continue_page: bool = False) -> list[Decision]:
        """Decide stored tickets with one history view, load snapshot and text cache; each
        routed ticket counts toward the load of the next, so a page spreads over agents fairly.
        ``continue_page`` carries those over from the previous call (the daemon decides a large
        page in slices, and the related tickets of one slice are mostly those of the next)."""
        tickets = [t for t in self.store.get_tickets(list(ticket_ids)) if t is not None]
        if not tickets:
            return []
        if continue_page and self._page is not None:
            context = self._page
            context.texts.read_ahead(tickets)
            context = replace(context, incidents=self._remember_outages(tickets, context.texts, now),
                              learned=self._readings(context.models, tickets, context.texts))
        else:
            texts = self._texts()
            texts.read_ahead(tickets)
            context = engine.DecisionContext(
                history=self.store.history(),
                load=self.load_snapshot(),
                incidents=self._remember_outages(tickets, texts, now),
                texts=texts,
                extra_signals=self._extra,
            )
            models = self._models.current()
            context = replace(context, models=models, learned=self._readings(models, tickets, texts))
        out = []
        for t in tickets:
            # The ticket's own current assignment is not load when routing that same ticket.
            own_free = writeback.without_own_assignment(context.load, t)
            d = self._decide(t, now, write_back, replace(context, load=own_free, chain_state=chain_state(self.store.ack_state(t.id))))
            if d.route is not None:
                context = replace(context, load=own_free.assign(d.route.team, d.route.agent))
            out.append(d)
        self._page = context
        return out

    @staticmethod
    def _readings(models, tickets: list[Ticket], texts: TextCache) -> dict:
        """Learned team and tone readings for a page, in one call per model."""
        return learned.predict(models, tickets, [texts.get(t).customer for t in tickets]) if models else {}

    def decide(self, ticket_id: str, now: datetime, *, write_back: bool) -> Decision | None:
        """Decide one stored ticket, record the decision and plan its write-back."""
        decided = self.decide_many([ticket_id], now, write_back=write_back)
        return decided[0] if decided else None

    def _decide(self, ticket: Ticket, now: datetime, write_back: bool, context: engine.DecisionContext) -> Decision:
        ticket_id = ticket.id
        previous = self.store.latest_decision(ticket_id)
        # The engine reads the ticket without deskwatch's own write-back (core/daemon/writeback.py):
        # its raised priority must not pick a stricter SLA policy, its notes are not the customer's.
        own = writeback.OwnWrites.from_outbox(self.store.outbox_for(ticket_id))
        facts = own.strip(ticket)
        basis = own.fingerprint(ticket)
        context = self._helpdesk_ack(ticket, now, context)
        decision = engine.decide(facts, self.config, now, context)
        hold = self._hold(ticket, decision, now)
        if hold is not None:
            decision = holds.held(decision, hold)
        if ticket.status in CLOSED_STATUSES:
            self.store.reset_escalation(ticket_id)
        elif decision.recommendation in actions.ESCALATING and context.chain_state is None:
            # The escalation starts now: route again with its chain, so the recorded decision
            # already names step 0 and the chain timer has nothing to catch up on.
            state = chain_state(self.store.start_escalation(ticket_id, now))
            decision = engine.route_step(decision, facts, self.config, now, replace(context, chain_state=state))
            if hold is not None:
                decision = holds.held(decision, hold)  # the person's tier, team and agent stay
        last = self.store.latest_basis(ticket_id)
        settled = writeback.settle(
            decision, previous, same_facts=last is not None and last[1] == basis,
            by_engine=last is not None and last[0] == ENGINE_ACTOR, held=hold is not None,
        )
        if settled.keep:
            log.debug("%s: %s; decision kept", ticket_id, settled.why, extra={"ticket": ticket_id})
            return settled.decision
        decision = settled.decision
        self.store.record_decision(decision, basis=basis)
        notify.decision_recorded(self.store, self.config, ticket, decision, now)  # pages and chain steps to people
        if decision.route is not None and decision.route.chain_step is not None:
            self._chain_seen[ticket_id] = (decision.route.chain, decision.route.chain_step)
        if self._notify is not None:
            try:
                self._notify(decision, ticket)
            except Exception:  # a notification plugin must not stop the sync
                log.exception("a decision_made plugin failed", extra={"ticket": ticket_id})
        if actions.newly_escalates(decision, previous):
            # Only a ticket that gets a handoff note pays for the brief (a similar-ticket search).
            self._write_back(ticket, facts, decision, previous, now, context.history, write_back)
        return decision

    def _write_back(self, ticket: Ticket, facts: Ticket, decision: Decision, previous: Decision | None,
                    now: datetime, history: HistoryView, write_back: bool) -> None:
        """Queue the updates a newly escalating ``decision`` calls for, its private note being
        the handoff brief, and record that brief in the audit log (kind ``brief``), the same
        text. In shadow mode the updates are recorded (kind ``shadow``) instead of queued."""
        note = self._handoff_brief(facts, decision, now, history)
        updates = actions.plan_updates(ticket, decision, previous, True, note=note)
        new_note = None
        if write_back:
            before = writeback.basis_of(ticket)
            for u in updates:
                if self.store.enqueue(u, now, basis=before) and u.private_note:
                    new_note = u
        else:
            # Shadow mode: record what deskwatch would have written, so it can be reviewed.
            self.store.append_audit(AuditRecord(ticket.id, "shadow", ENGINE_ACTOR, now,
                                                {"would_apply": [update_to_dict(u) for u in updates]}))
            new_note = next((u for u in updates if u.private_note), None)
        if new_note is not None and note is not None:
            # A note already queued under the same key (the same intent decided again) is not
            # sent again, so it gets no second record either.
            self.store.append_audit(AuditRecord(ticket.id, "brief", ENGINE_ACTOR, now,
                                                self._brief_record(ticket, new_note, write_back)))

    def _brief_record(self, ticket: Ticket, u, write_back: bool) -> dict:
        fmt = self._note_format(ticket.source)
        data = {"text": u.private_note, "format": fmt, "note_key": u.idempotency_key, "written_back": write_back}
        if fmt == "html":
            # What the helpdesk stores: the connector turns the text into escaped HTML at the edge.
            data["html"] = text_to_html(u.private_note)
        return data

    def _handoff_brief(self, facts: Ticket, decision: Decision, now: datetime, history: HistoryView) -> str | None:
        """The handoff note's text: the headline, then the brief (core/policy/brief.py) with the
        customer's tickets of the last N days and the three most similar solved tickets.
        ``facts`` is the ticket without deskwatch's own notes, so an earlier brief is not read
        as an agent's troubleshooting. None (the short handoff note) if the brief fails."""
        days = int(getattr(getattr(self.config, "brief", None), "related_days", briefs.RELATED_DAYS))
        try:
            since = now - timedelta(days=days)
            related = [t for t in history.related(facts) if t.created_at >= since]
            similar = self.store.similar(facts, now=now, limit=briefs.MAX_SIMILAR, decision=decision)
            brief = briefs.build_brief(facts, decision, now=now, related=related, similar=similar,
                                       related_days=days, clean=new_text)
        except Exception:  # the brief is a courtesy: the escalation itself must still be written
            log.exception("%s: the handoff brief failed; writing the short note", facts.id, extra={"ticket": facts.id})
            return None
        return briefs.render_note(brief, actions.handoff_headline(decision))

    def _note_format(self, source: str) -> str:
        """How ``source``'s helpdesk stores notes (core/connect/contract.py ``note_format``)."""
        fmt = self._note_formats.get(source)
        if fmt is None:
            cfg = self.config.sources.get(source)
            type_name = cfg.type if cfg is not None else source
            registered = None
            try:
                from deskwatch.core.connect import plugins

                registered = plugins.connector_types().get(type_name)
            except Exception:  # no plugins installed: the known formats still apply
                pass
            fmt = self._note_formats[source] = note_format(type_name, registered)
        return fmt

    def _hold(self, ticket: Ticket, decision: Decision, now: datetime) -> holds.Hold | None:
        """The person's override or escalation that still holds over ``decision``; ends it
        (recorded in the audit log) when the engine has found something new."""
        hold = holds.from_audit(self.store.latest_of(ticket.id, (*holds.HOLD_KINDS, holds.HOLD_ENDED)))
        if hold is None:
            return None
        why = holds.ended_by(hold, decision, ticket.status)
        if why is None:
            return hold
        self.store.append_audit(holds.ended_record(ticket.id, hold, why, ENGINE_ACTOR, now))
        log.info("%s: %s's %s no longer holds: %s", ticket.id, hold.actor, hold.kind, why, extra={"ticket": ticket.id})
        return None

    def _helpdesk_ack(self, ticket: Ticket, now: datetime, context: engine.DecisionContext) -> engine.DecisionContext:
        """An agent answering the customer in the helpdesk after the escalation started has
        taken the ticket: that acknowledges the chain, as an acknowledgment in the console does."""
        ack = self.store.ack_state(ticket.id)
        if ack is None or ack.started_at is None or ack.acknowledged(now):
            return context
        replies = [m for m in ticket.messages if m.author == "agent" and m.public and m.created_at >= ack.started_at]
        if not replies:
            return context
        first = replies[0]
        who = f"{first.author_id or 'an agent'} (in {ticket.source})"
        self.store.set_acknowledged(ticket.id, who, first.created_at)
        self.store.append_audit(AuditRecord(ticket.id, "acknowledge", who, now,
                                            {"via": "helpdesk reply", "at": first.created_at.isoformat()}))
        return replace(context, chain_state=chain_state(self.store.ack_state(ticket.id)))

    def advance_chains(self, now: datetime) -> int:
        """Re-decide tickets whose progressive escalation has reached a new step since their
        last decision (the timers live in the store, so this also resumes after a restart).

        Cheap per running chain: the step is computed from the timer row alone and compared
        with the step last decided (remembered here; read from the store once after a
        restart). Only tickets whose step moved are read and decided again. Each ticket's step
        is counted on the chain its last decision ran (a rule's own chain, say a faster one for
        security), else on the default chain.
        """
        routing = self.config.routing
        if not routing.chains:
            return 0
        moved = 0
        running = self.store.active_escalations(now)
        live = {a.ticket_id for a in running}
        for tid in [t for t in self._chain_seen if t not in live]:
            del self._chain_seen[tid]  # solved, acknowledged or reset: forget it
        for ack in running:
            state = chain_state(ack)
            if state is None:
                continue
            if ack.ticket_id not in self._chain_seen:
                last = self.store.latest_decision(ack.ticket_id)
                self._chain_seen[ack.ticket_id] = (last.route.chain, last.route.chain_step) if last and last.route else (None, None)
            name, seen = self._chain_seen[ack.ticket_id]
            chain = routing.chain(name or routing.default_chain or "")
            if chain is None:
                continue  # no chain runs for this ticket (none by default, and its rule names none)
            step = chain_step(chain, state, now).index
            if step == seen:
                continue
            if self._fire(ack, chain.name, step, now):
                moved += 1
            if self._chain_seen.get(ack.ticket_id) in (None, (name, seen)):
                # The new decision named no step (a person's route holds, say): wait for this
                # chain's next step rather than deciding again at every heartbeat.
                self._chain_seen[ack.ticket_id] = (chain.name, step)
        return moved

    def _fire(self, ack: AckState, chain: str, step: int, now: datetime) -> bool:
        """Re-decide ``ack``'s ticket for chain step ``step``, once across the fleet: the step
        is claimed in the store first, and a daemon that loses the claim (or finds the step
        already decided, by another daemon or by a sync) leaves it. True when decided here."""
        key = f"{chain}:{step}@{ts(ack.started_at)}"
        holder = getattr(self.config.daemon, "id", None) or None
        if not self.store.claim_timer(ack.ticket_id, key, holder, now):
            return False
        fired = None
        try:
            last = self.store.latest_decision(ack.ticket_id)
            if last is not None and last.route is not None and (last.route.chain, last.route.chain_step) == (chain, step):
                fired = key  # decided already, since this daemon last looked
                return False
            ticket = self.store.get_ticket(ack.ticket_id)
            if ticket is None:
                return False
            source = self.config.sources.get(ticket.source)
            self.decide(ack.ticket_id, now, write_back=bool(source and source.write_back))
            fired = key
            return True
        finally:
            self.store.timer_done(ack.ticket_id, fired, holder)
