"""The console's actions on a ticket: validate, record (store + audit), queue the helpdesk update.

Every function takes the ``store``, the ``actor`` (the local user, or the SSH key's comment) and
``now``; none reads the clock or the config. ``write_back`` says whether the ticket's source has
write-back enabled: only then is an update put in the outbox. Each function does all its writes
in one transaction and returns the updates it queued. Bad input raises ``OperationError`` with a
message that names the problem and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from deskwatch.core.engine.text import new_text
from deskwatch.core.policy import actions, holds, routing
from deskwatch.core.model import PRIORITIES, RECOMMENDATIONS, TIERS, AuditRecord, Decision, Route, Ticket, TicketUpdate
from deskwatch.core.model.timeutil import format_time
from deskwatch.core.store.outbox import OutboxItem


class OperationError(ValueError):
    """An action the console cannot carry out; the message says why and what to do."""


def _ticket(store: Any, ticket_id: str, actor: str) -> Ticket:
    if not actor or not actor.strip():
        raise OperationError("no actor: every action is recorded with who did it; set tui.actor or run as a named user")
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise OperationError(f"unknown ticket {ticket_id!r}: it is not in the store (never synced, or deleted); check the id, e.g. zendesk:123")
    return ticket


def _required(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise OperationError(f"{what} is empty; say why, it goes into the audit log")
    return value.strip()


def _key(ticket_id: str, kind: str, actor: str, now: datetime, **intent: Any) -> str:
    # A person's action is a new intent each time; the same call retried keeps its key.
    return actions.idempotency_key(ticket_id, kind, {**intent, "actor": actor, "at": format_time(now)})


def _queue(store: Any, updates: list[TicketUpdate], write_back: bool, now: datetime) -> list[TicketUpdate]:
    if not write_back:
        return []
    return [u for u in updates if store.enqueue(u, now)]


def _manual_decision(store: Any, ticket: Ticket, actor: str, now: datetime, note: str, **changes: Any) -> Decision:
    latest = store.latest_decision(ticket.id)
    if latest is None:
        latest = Decision(ticket.id, 0.0, "none", "tier1", ticket.group, 1.0, False, (), (), now)
    return replace(latest, needs_review=False, confidence=1.0, reasons=(note, *latest.reasons), decided_at=now, **changes)


def acknowledge(store: Any, ticket_id: str, actor: str, now: datetime, *, write_back: bool = False,
                expires_at: datetime | None = None, assign: bool = False) -> list[TicketUpdate]:
    """``actor`` takes the ticket: stops its progressive escalation chain (until ``expires_at``).
    With ``assign`` (``[tui] acknowledge_assigns``) the ticket is also assigned to ``actor``,
    here and, with write-back, on the helpdesk. The helpdesk gets one acknowledgment note:
    acknowledging a ticket whose acknowledgment has not lapsed (a second key press, another
    console) is recorded here and writes nothing more."""
    ticket = _ticket(store, ticket_id, actor)
    if expires_at is not None and expires_at <= now:
        raise OperationError(f"acknowledgment expiry {format_time(expires_at)} is not after now ({format_time(now)}); give a later time")
    ack = store.ack_state(ticket.id)
    already = ack is not None and ack.acknowledged(now)
    started = format_time(ack.started_at) if ack is not None and ack.started_at is not None else None
    take = assign and ticket.assignee != actor
    with store.transaction():
        store.set_acknowledged(ticket.id, actor, now, expires_at)
        if take:
            store.set_assignee(ticket.id, actor)
        store.append_audit(AuditRecord(ticket.id, "acknowledge", actor, now, {
            "expires_at": expires_at, **({"again": True} if already else {}),
            **({"assignee_from": ticket.assignee, "assignee": actor} if take else {}),
        }))
        if hasattr(store, "cancel_notifications"):  # no more pages or chain-step notices for it
            store.cancel_notifications(ticket.id, ("page", "notify_step"), f"acknowledged by {actor}")
        assignment = [TicketUpdate(ticket.id, ticket.source, _key(ticket.id, "assign", actor, now, assignee=actor), assignee=actor)] if take else []
        if already:
            return _queue(store, assignment, write_back, now)
        # Keyed by the escalation it acknowledges, not by the time: the same person
        # acknowledging the same escalation again plans the same note, which the outbox keeps once.
        key = actions.idempotency_key(ticket.id, "acknowledge", {"actor": actor, "escalation": started or format_time(now)})
        note = TicketUpdate(ticket.id, ticket.source, key, private_note=f"Acknowledged in deskwatch by {actor}.")
        return _queue(store, [*assignment, note], write_back, now)


def assign(
    store: Any, ticket_id: str, *, agent: str | None = None, team: str | None = None, actor: str, now: datetime,
    reason: str = "", write_back: bool = False, routing_config: Any = None,
) -> list[TicketUpdate]:
    """Assign the ticket to a person and/or a team (the helpdesk group), here and, with
    write-back, on the helpdesk. The recommendation and the escalation chain are left as they
    are. With ``routing_config`` (a RoutingConfig with teams), the team and agent must be ones
    it knows, and the agent a member of the team."""
    ticket = _ticket(store, ticket_id, actor)
    agent = (agent or "").strip() or None
    team = (team or "").strip() or None
    if agent is None and team is None:
        raise OperationError("assign needs a person or a team to assign the ticket to")
    if isinstance(routing_config, routing.RoutingConfig) and routing_config.teams:
        try:
            routing.check_route(Route("tier1", team, agent, False, None, ""), routing_config)
        except routing.RouteOverrideError as e:
            raise OperationError(str(e)) from None
    if agent == ticket.assignee and (team is None or team == ticket.group):
        raise OperationError(f"{ticket.id} is already assigned to {agent or ticket.assignee}"
                             + (f" in {ticket.group}" if ticket.group else "") + "; pick someone else")
    update = TicketUpdate(
        ticket.id, ticket.source, _key(ticket.id, "assign", actor, now, assignee=agent, group=team),
        assignee=agent if agent and agent != ticket.assignee else None,
        group=team if team and team != ticket.group else None,
    )
    with store.transaction():
        store.set_assignee(ticket.id, agent if agent is not None else ticket.assignee, team)
        store.append_audit(AuditRecord(ticket.id, "action", actor, now, {
            "action": "assign", "assignee": agent, "team": team, "from": ticket.assignee, "from_team": ticket.group, "reason": reason,
        }))
        return _queue(store, [update], write_back, now)


@dataclass(frozen=True)
class EscalationPlan:
    """Where an escalation by hand sends the ticket, and what it changes on the helpdesk."""

    tier: str
    team: str | None
    agent: str | None
    recommendation: str
    priority: str | None  # the helpdesk priority it raises to, or None (unchanged)
    group: str | None  # the helpdesk group it sets, or None (unchanged)
    assignee: str | None  # the helpdesk assignee it sets, or None (unchanged)
    changes: tuple[str, ...]  # each change as a person reads it, for a form to show before applying


def plan_escalation(store: Any, ticket: Ticket, tier: str | None, team: str | None, agent: str | None) -> EscalationPlan:
    """What escalating ``ticket`` to ``tier``/``team``/``agent`` does. What is not given stays as
    the latest decision has it: the agent too, unless the team changes (then the new team's
    routing picks one)."""
    latest = store.latest_decision(ticket.id)
    old_tier = latest.tier if latest else None
    old_team = latest.team if latest else ticket.group
    old_agent = latest.route.agent if latest and latest.route else None
    new_tier = tier or old_tier or "tier1"
    new_team = team or old_team
    same_team = (new_team or "").casefold() == (old_team or "").casefold()
    new_agent = agent or (old_agent if same_team else None)
    rec = latest.recommendation if latest and latest.recommendation == "immediate" else "priority"
    target = actions.TARGET_PRIORITY[rec]
    current = PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else -1
    priority = target if PRIORITIES.index(target) > current else None
    group = new_team if new_team and new_team != ticket.group else None
    assignee = agent if agent and agent != ticket.assignee else None
    changes = []
    if new_tier != old_tier:
        changes.append(f"tier {old_tier or '-'} -> {new_tier}")
    if not same_team:
        changes.append(f"team {old_team or '-'} -> {new_team or '-'}")
    if new_agent != old_agent:
        changes.append(f"agent {old_agent or '-'} -> {new_agent or '(none: the team picks)'}")
    if (latest.recommendation if latest else None) != rec:
        changes.append(f"recommendation {latest.recommendation if latest else 'undecided'} -> {rec}")
    if priority:
        changes.append(f"helpdesk priority {ticket.priority or 'none'} -> {priority}")
    if group:
        changes.append(f"helpdesk group {ticket.group or '-'} -> {group}")
    if assignee:
        changes.append(f"helpdesk assignee {ticket.assignee or '-'} -> {assignee}")
    return EscalationPlan(new_tier, new_team, new_agent, rec, priority, group, assignee, tuple(changes))


def escalation_changes(store: Any, ticket_id: str, *, tier: str | None = None, team: str | None = None,
                       agent: str | None = None, actor: str = "preview") -> tuple[str, ...]:
    """What an escalation would change, for a form to show before it is applied."""
    return plan_escalation(store, _ticket(store, ticket_id, actor), tier, team, agent).changes


def escalate(
    store: Any, ticket_id: str, *, tier: str | None = None, team: str | None = None, agent: str | None = None,
    actor: str, reason: str, now: datetime, write_back: bool = False, routing_config: Any = None,
) -> list[TicketUpdate]:
    """Escalate by hand to a tier, team and/or agent. Recorded as a decision by ``actor`` (so
    the queue shows it; it holds over later engine decisions, core/policy/holds.py), starts the
    escalation chain, and sends group/assignee/tags/flag and a private note to the helpdesk.
    What is not given stays as it was (``plan_escalation``). With ``routing_config`` (a
    RoutingConfig with teams), a team or agent typed by hand must be one it knows, and the
    agent a member of the team."""
    ticket = _ticket(store, ticket_id, actor)
    reason = _required(reason, "the escalation reason")
    if tier is None and team is None and agent is None:
        raise OperationError("escalate needs a tier, a team or an agent to escalate to")
    if tier is not None and tier not in TIERS:
        raise OperationError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
    latest = store.latest_decision(ticket.id)
    plan = plan_escalation(store, ticket, tier, team, agent)
    if isinstance(routing_config, routing.RoutingConfig) and routing_config.teams:
        try:
            routing.check_route(Route(plan.tier, team, agent, False, None, ""), routing_config)
        except routing.RouteOverrideError as e:
            raise OperationError(str(e)) from None
    new_tier, new_team, rec = plan.tier, plan.team, plan.recommendation
    note = f"Escalated by {actor}: {reason}"
    decision = _manual_decision(
        store, ticket, actor, now, note, recommendation=rec, tier=new_tier, team=new_team,
        route=Route(new_tier, new_team, plan.agent, False, None, note),
    )
    intent = {"tier": new_tier, "team": new_team, "agent": plan.agent}
    fields = TicketUpdate(
        ticket.id, ticket.source, _key(ticket.id, "escalate", actor, now, **intent),
        priority=plan.priority, group=plan.group, assignee=plan.assignee,
        tags_add=tuple(t for t in (actions.ESCALATED_TAG, actions.tier_tag(new_tier)) if t not in ticket.tags),
        escalated=True,
    )
    handoff = TicketUpdate(
        ticket.id, ticket.source, _key(ticket.id, "escalate-note", actor, now, **intent),
        private_note=f"{note}\n\n" + actions.handoff_note(ticket, decision),
    )
    with store.transaction():
        store.record_decision(decision, actor=actor)
        store.start_escalation(ticket.id, now)
        store.append_audit(AuditRecord(ticket.id, "escalate", actor, now,
                                       {**intent, "reason": reason, "recommendation": rec, **holds.hold_data(latest)}))
        return _queue(store, [fields, handoff], write_back, now)


def change_priority(store: Any, ticket_id: str, priority: str, *, actor: str, now: datetime, reason: str = "", write_back: bool = False) -> list[TicketUpdate]:
    """Set the ticket's helpdesk priority."""
    ticket = _ticket(store, ticket_id, actor)
    if priority not in PRIORITIES:
        raise OperationError(f"unknown priority {priority!r}; expected one of {', '.join(PRIORITIES)}")
    update = TicketUpdate(ticket.id, ticket.source, _key(ticket.id, "priority", actor, now, priority=priority), priority=priority)
    with store.transaction():
        store.append_audit(AuditRecord(ticket.id, "priority", actor, now, {"from": ticket.priority, "to": priority, "reason": reason}))
        return _queue(store, [update], write_back, now)


def snooze(store: Any, ticket_id: str, until: datetime, actor: str, now: datetime, *, reason: str = "") -> list[TicketUpdate]:
    """Hold the ticket's escalation chain until ``until``. Local to deskwatch: nothing is sent."""
    ticket = _ticket(store, ticket_id, actor)
    if until <= now:
        raise OperationError(f"snooze until {format_time(until)} is in the past (now {format_time(now)}); give a later time")
    with store.transaction():
        store.set_snoozed(ticket.id, until, actor)
        store.append_audit(AuditRecord(ticket.id, "snooze", actor, now, {"until": until, "reason": reason}))
    return []


def override(store: Any, ticket_id: str, recommendation: str, reason: str, actor: str, now: datetime, *, write_back: bool = False) -> list[TicketUpdate]:
    """Replace the engine's recommendation. Recorded as a decision by ``actor``; it holds over
    later engine decisions until something new comes up (core/policy/holds.py). Overriding down to
    monitor or none also stops the escalation chain."""
    ticket = _ticket(store, ticket_id, actor)
    if recommendation not in RECOMMENDATIONS:
        raise OperationError(f"unknown recommendation {recommendation!r}; expected one of {', '.join(RECOMMENDATIONS)}")
    reason = _required(reason, "the override reason")
    latest = store.latest_decision(ticket.id)
    before = latest.recommendation if latest else None
    note = f"Recommendation overridden by {actor}: {before or 'undecided'} -> {recommendation}. Reason: {reason}"
    decision = _manual_decision(store, ticket, actor, now, note, recommendation=recommendation)
    # An override changes the recommendation, not where a person sent the ticket: the route of
    # an escalation by hand that still holds goes on holding with it.
    standing = holds.from_audit(store.latest_of(ticket.id, (*holds.HOLD_KINDS, holds.HOLD_ENDED)))
    route = holds.route_data(standing)
    updates = [TicketUpdate(ticket.id, ticket.source, _key(ticket.id, "override-note", actor, now, to=recommendation), private_note=note)]
    if recommendation in actions.ESCALATING and before not in actions.ESCALATING:
        updates.insert(0, TicketUpdate(
            ticket.id, ticket.source, _key(ticket.id, "override", actor, now, to=recommendation),
            tags_add=tuple(t for t in (actions.ESCALATED_TAG, actions.tier_tag(decision.tier)) if t not in ticket.tags),
            escalated=True,
        ))
    with store.transaction():
        store.record_decision(decision, actor=actor)
        if recommendation not in actions.ESCALATING:
            ack = store.ack_state(ticket.id)
            store.reset_escalation(ticket.id)  # nobody is paged about a ticket a person stood down
            if ack is not None and ack.acknowledged(now):
                # Standing a ticket down does not un-take it: whoever acknowledged it still has it.
                store.set_acknowledged(ticket.id, ack.acknowledged_by, ack.acknowledged_at, ack.expires_at)
        store.append_audit(AuditRecord(ticket.id, "override", actor, now,
                                       {**holds.hold_data(latest), **route, "to": recommendation, "reason": reason}))
        return _queue(store, updates, write_back, now)


def add_note(store: Any, ticket_id: str, text: str, actor: str, now: datetime, *, write_back: bool = False) -> list[TicketUpdate]:
    """A private note: kept in the audit log, and posted to the helpdesk when write-back is on."""
    ticket = _ticket(store, ticket_id, actor)
    if not text or not text.strip():
        raise OperationError("the note is empty; type the text of the note")
    update = TicketUpdate(ticket.id, ticket.source, _key(ticket.id, "note", actor, now, text=text.strip()), private_note=f"{text.strip()}\n— {actor} (via deskwatch)")
    with store.transaction():
        store.append_audit(AuditRecord(ticket.id, "note", actor, now, {"text": text.strip()}))
        return _queue(store, [update], write_back, now)


def review(store: Any, ticket_id: str, accept: bool, actor: str, now: datetime, comment: str = "") -> list[TicketUpdate]:
    """Feedback on the latest decision (accepted or rejected); takes the ticket off the review
    list. Local: nothing is sent to the helpdesk."""
    ticket = _ticket(store, ticket_id, actor)
    latest = store.latest_decision(ticket.id)
    if latest is None:
        raise OperationError(f"ticket {ticket_id} has no decision to review yet; wait for the daemon to decide it")
    with store.transaction():
        store.append_audit(AuditRecord(ticket.id, "feedback", actor, now, {
            "accept": bool(accept), "comment": comment, "score": round(latest.score, 1), "recommendation": latest.recommendation,
            "tier": latest.tier, "team": latest.team, "confidence": round(latest.confidence, 3),
            "decided_at": latest.decided_at,
        }))
        store.mark_reviewed(ticket.id)
    return []


def retry_update(store: Any, key: str, actor: str, now: datetime) -> OutboxItem:
    """Send a failed helpdesk update again (``key``: its idempotency key, as ``deskwatch status
    --json`` and the console show it), typically after fixing its cause (a team or agent name
    mapped in the config). The item goes back to the outbox with its attempts reset; the daemon
    sends it on its next drain, and the connector's check for the key on the ticket keeps it
    from being applied twice. Recorded in the audit log with the error it had."""
    if not actor or not actor.strip():
        raise OperationError("no actor: every action is recorded with who did it; set tui.actor or run as a named user")
    item = store.outbox_item(key)
    if item is None:
        raise OperationError(f"unknown update {key!r}: no such outbox item; copy the key from deskwatch status --json")
    if item.state != "failed":
        shown = {"applied": "it reached the helpdesk", "pending": "it is waiting to be sent", "sending": "it is being sent"}
        raise OperationError(f"update {key} of {item.ticket_id} has not failed ({shown.get(item.state, item.state)}); nothing to retry")
    with store.transaction():
        before = store.requeue_failed(key)
        if before is None:  # another console retried it, or the daemon settled it, just now
            raise OperationError(f"update {key} of {item.ticket_id} is no longer failed; nothing to retry")
        store.append_audit(AuditRecord(item.ticket_id, "retry_update", actor, now, {
            "key": key, "error": before.error, "attempts": before.attempts, "gave_up": before.retry_at is None,
        }))
    return before


TONES = ("negative", "neutral", "positive")


def customer_messages(ticket: Ticket) -> list[int]:
    """Indexes (into ``ticket.messages``) of the customer's messages, oldest first: the ones a
    tone label can be given to."""
    return [i for i, m in enumerate(ticket.messages) if m.author == "customer"]


def label_tone(store: Any, ticket_id: str, label: str, actor: str, now: datetime, *, message: int | None = None) -> list[TicketUpdate]:
    """A person's reading of a customer message's tone (negative, neutral or positive), for the
    learned tone model (``deskwatch learn``; core/learn/history.py reads audit kind
    ``tone_label``). ``message``: the index into the ticket's messages; the latest customer
    message by default. The label holds the text as the engine reads it (quotes and signature
    left out). Local: nothing is sent to the helpdesk."""
    ticket = _ticket(store, ticket_id, actor)
    tone = (label or "").strip().lower()
    if tone not in TONES:
        raise OperationError(f"unknown tone {label!r}; expected one of {', '.join(TONES)}")
    customer = customer_messages(ticket)
    if not customer:
        raise OperationError(f"{ticket.id} has no customer message to label")
    index = customer[-1] if message is None else message
    if index not in customer:
        raise OperationError(f"message {index} of {ticket.id} is not a customer message; "
                             f"choose one of {', '.join(map(str, customer))}")
    m = ticket.messages[index]
    text = new_text(m.body).strip()
    if not text:
        raise OperationError(f"message {index} of {ticket.id} has no text of its own (only a quote or a signature); label another one")
    for r in store.audit_for(ticket.id):
        # The same label twice would count the message twice in training.
        if r.kind == "tone_label" and r.data.get("message") == index and r.data.get("label") == tone and r.data.get("text") == text:
            raise OperationError(f"message {index} of {ticket.id} is already labelled {tone} (by {r.actor}); nothing recorded")
    with store.transaction():
        store.append_audit(AuditRecord(ticket.id, "tone_label", actor, now, {
            "label": tone, "text": text, "message": index, "message_at": m.created_at,
        }))
    return []
