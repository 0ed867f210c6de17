"""Notifications planned from recorded decisions: which events, to which channels, saying what.

``decision_recorded`` is called by the pipeline after each recorded decision. Each event gets
an idempotency key per (ticket, event, channel, occurrence): the occurrence is the escalation's
start and the chain's round and step for pages and notify steps (so the chain's next step
notifies again until someone acknowledges), the SLA target's state and due time for SLA
warnings. Deciding the same thing again, or after a restart, queues nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deskwatch.core.model import Decision, Ticket
from deskwatch.core.model.timeutil import format_time
from deskwatch.core.policy.chains import EscalationState, chain_step

log = logging.getLogger("deskwatch.notify")

# An acknowledgment stops these; management attention and SLA warnings still reach people.
STOPPED_BY_ACK = ("page", "notify_step")
LABELS = {"page": "PAGE", "notify_step": "escalation step", "management": "management attention",
          "sla_warning": "SLA warning"}
HOW_TO_ACK = ("Acknowledge: press `a` on the ticket in `deskwatch tui` (or over `deskwatch serve-ssh`), "
              "or reply to the customer in the helpdesk; until then this repeats at each step of the escalation chain.")


@dataclass(frozen=True)
class Event:
    kind: str  # one of notify_config.EVENTS
    why: str
    occurrence: str  # what makes a repeat of this event a new notification


def _chain_position(decision: Decision, config: Any, ack: Any, now: datetime) -> str:
    """ "<escalation start>/<chain>/<round>.<step>", or "" when no chain runs."""
    route = decision.route
    started = getattr(ack, "started_at", None)
    if started is None:
        return ""
    where = format_time(started)
    if route is None or route.chain is None or route.chain_step is None:
        return where
    chain = config.routing.chain(route.chain)
    rnd = 0
    if chain is not None:
        rnd = chain_step(chain, EscalationState(started_at=started), now).round
    return f"{where}/{route.chain}/{rnd}.{route.chain_step}"


def _notify_step(decision: Decision, config: Any) -> bool:
    route = decision.route
    if route is None or route.chain is None or route.chain_step is None:
        return False
    chain = config.routing.chain(route.chain)
    return chain is not None and 0 <= route.chain_step < len(chain.steps) and chain.steps[route.chain_step].action == "notify"


def events_for(decision: Decision, config: Any, ack: Any, now: datetime) -> list[Event]:
    """The events ``decision`` raises (before the [notify] events filter)."""
    route = decision.route
    acked = ack is not None and ack.acknowledged(now)
    position = _chain_position(decision, config, ack, now)
    out: list[Event] = []
    page = decision.page  # incidents only (core/engine/levels.py); the route names who is on call
    if page and not acked:
        reason = decision.page_reason
        out.append(Event("page", str(reason or "urgent and routed to the on-call rotation"), position))
    if _notify_step(decision, config) and not acked:
        out.append(Event("notify_step", f"step {route.chain_step + 1} of escalation chain {route.chain}", position))  # type: ignore[union-attr]
    management = decision.management
    if management:
        why = "; ".join(str(r) for r in management.reasons[:2])
        out.append(Event("management", why or "needs management attention", position.split("/")[0]))
    sla = decision.sla
    if sla is not None and sla.state in ("warning", "breached"):
        due = sla.next_due
        when = f", due {format_time(due)}" if due else ""
        out.append(Event("sla_warning", f"SLA {sla.policy} {sla.state}{when}",
                         f"{sla.policy}/{sla.state}/{format_time(due) if due else ''}"))
    return out


def recipients(decision: Decision, config: Any, event: Event) -> list[str]:
    """Channel names for ``event``: the routed person, the team's rotation (pages), the team;
    "default" when none of them has a channel."""
    route = decision.route
    names: list[str] = []
    if route is not None and route.agent:
        names.append(route.agent)
    team = (route.team if route else None) or decision.team
    if team and event.kind == "page":
        rotation = config.routing.rotation_for(team)
        if rotation is not None:
            names.append(rotation.name)
    if team:
        names.append(team)
    ncfg = config.notify
    found = [n for n in dict.fromkeys(names) if ncfg.named(n)]
    return found or (["default"] if ncfg.named("default") else [])


def the_ask(ticket: Ticket) -> str:
    """One line: the customer's own words when the brief finds them, else the subject."""
    try:
        from deskwatch.core.policy.brief import the_ask as asked

        lines = asked(ticket, cap=1)
    except Exception:  # the brief is a nicety here; the page must still go
        lines = []
    return lines[0] if lines else f'"{ticket.subject}"'


def compose(ticket: Ticket, decision: Decision, event: Event) -> tuple[str, str]:
    """(title, body) of the message: the ticket, the ask, why, where it is routed, the link, how to acknowledge."""
    route = decision.route
    title = f"[deskwatch] {LABELS[event.kind]}: {ticket.id} {ticket.subject[:80]}"
    team = (route.team if route else None) or decision.team
    where = decision.tier + (f", team {team}" if team else "")
    if route is not None and route.agent:
        where += f", agent {route.agent}" + (" (on call)" if route.on_call else "")
    if route is not None and route.chain:
        where += f"; chain {route.chain} step {route.chain_step}"
    reasons = "; ".join(decision.reasons[:2])
    lines = [
        f"Ticket: {ticket.id} ({ticket.source}) {ticket.subject}",
        f"Ask: {the_ask(ticket)}",
        f"Why: {event.why}. {decision.recommendation} (score {decision.score:.0f}/100)" + (f": {reasons}" if reasons else ""),
        f"Routed to: {where}",
    ]
    if ticket.url:
        lines.append(f"Link: {ticket.url}")
    lines.append(HOW_TO_ACK)
    return title, "\n".join(lines)


def plan(store: Any, config: Any, ticket: Ticket, decision: Decision, now: datetime) -> int:
    """Queue the notifications ``decision`` calls for; returns how many were new."""
    ncfg = getattr(config, "notify", None)
    if ncfg is None or not ncfg.channels:
        return 0
    ack = store.ack_state(ticket.id)
    queued = 0
    for event in events_for(decision, config, ack, now):
        if event.kind not in ncfg.events:
            continue
        title, body = compose(ticket, decision, event)
        for name in recipients(decision, config, event):
            for ch in ncfg.named(name):
                key = f"{ticket.id}|{event.kind}|{ch.id}|{event.occurrence}"
                queued += store.enqueue_notification(key, ticket.id, event.kind, ch.id, title, body, now,
                                                     ncfg.due_at(event.kind, now))
    return queued


def decision_recorded(store: Any, config: Any, ticket: Ticket, decision: Decision, now: datetime) -> int:
    """The pipeline's hook: ``plan``, but a failure is logged and never stops the sync."""
    try:
        return plan(store, config, ticket, decision, now)
    except Exception:
        log.exception("planning notifications failed", extra={"ticket": ticket.id})
        return 0
