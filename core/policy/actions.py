"""Planning helpdesk updates from decisions. Pure: no I/O, no clock.

``plan_updates`` turns a decision that newly escalates a ticket into ``TicketUpdate``s for the
outbox. Each update's ``idempotency_key`` is a hash of the ticket id and the intent (never of
times or of the ticket's current state), so deciding the same thing again plans the same key
and the outbox keeps one copy; the connector checks for the key before applying.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from deskwatch.core.model import PRIORITIES, Decision, Ticket, TicketUpdate

ESCALATING = ("priority", "immediate")
ESCALATED_TAG = "deskwatch-escalated"
# The helpdesk priority each escalating recommendation asks for, at least.
TARGET_PRIORITY = {"priority": "high", "immediate": "urgent"}


def idempotency_key(ticket_id: str, kind: str, intent: dict[str, Any]) -> str:
    """A stable key for one intent on one ticket: 32 hex characters (connectors use the first
    12 as a tag, so the key starts with hash bits rather than a fixed prefix)."""
    text = json.dumps({"ticket": ticket_id, "kind": kind, "intent": intent}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def tier_tag(tier: str) -> str:
    return f"deskwatch-{tier}"


def _target(decision: Decision) -> tuple[str | None, str | None]:
    """(team, agent) the decision routes to."""
    if decision.route is not None:
        return decision.route.team or decision.team, decision.route.agent
    return decision.team, None


def newly_escalates(decision: Decision, previous: Decision | None) -> bool:
    """True when ``decision`` escalates and ``previous`` did not, or escalated elsewhere
    (another tier, team or agent, or a lower recommendation)."""
    if decision.recommendation not in ESCALATING:
        return False
    if previous is None or previous.recommendation not in ESCALATING:
        return True
    return (
        decision.tier != previous.tier
        or _target(decision) != _target(previous)
        or ESCALATING.index(decision.recommendation) > ESCALATING.index(previous.recommendation)
    )


def handoff_headline(decision: Decision) -> str:
    """The first line of every handoff note: what deskwatch decided and where it routed.

    It starts with ``HANDOFF_PREFIX`` (core/daemon/writeback.py), which counts handoff notes
    and recognizes their echo in the helpdesk, so a brief written after it keeps both working."""
    team, agent = _target(decision)
    where = decision.tier + (f" / {team}" if team else "") + (f" -> {agent}" if agent else "")
    return (f"deskwatch escalated this ticket: {decision.recommendation} (score {decision.score:.0f}/100, "
            f"confidence {decision.confidence:.0%}), routed to {where}.")


def handoff_note(ticket: Ticket, decision: Decision) -> str:
    """A private note for the agent who picks the ticket up: what deskwatch decided and why
    (the short form; the daemon writes the handoff brief after the headline instead)."""
    lines = [handoff_headline(decision)]
    if decision.route is not None and decision.route.reason:
        lines.append(f"Route: {decision.route.reason}")
    if decision.page:
        # Paging follows decision.page (incidents), never the urgency or route.on_call alone.
        lines.append(f"Paged: {decision.page_reason}")
    if decision.management is not None:
        to = decision.route.management if decision.route is not None and decision.route.management else "management"
        lines.append(f"Management ({to}): {'; '.join(decision.management.reasons)}")
    if decision.sla is not None and decision.sla.next_due is not None:
        lines.append(f"SLA: {decision.sla.state}, next due {decision.sla.next_due.strftime('%Y-%m-%d %H:%M UTC')}")
    reasons = list(decision.reasons) or [s.detail or s.name for s in sorted(decision.signals, key=lambda s: -s.contribution)[:5]]
    if reasons:
        lines.append("Why:")
        lines += [f"- {r}" for r in reasons]
    return "\n".join(lines)


def plan_updates(ticket: Ticket, decision: Decision, previous: Decision | None, write_back: bool,
                 note: str | None = None) -> list[TicketUpdate]:
    """The helpdesk updates ``decision`` calls for, given the ``previous`` decision.

    Nothing unless the decision newly escalates (``newly_escalates``) and ``write_back`` is on
    for the ticket's source (in shadow mode the decision itself is the record of what deskwatch
    would do). Otherwise: one field update (priority raised to at least high/urgent, group and
    assignee from the route, tags ``deskwatch-escalated`` and ``deskwatch-<tier>``, the
    escalation flag) and one private handoff note, each with a stable idempotency key.
    Fields the ticket already has are not sent.

    ``note`` replaces ``handoff_note`` as the private note (the daemon passes the handoff
    brief). The note's key is computed from the intent only, never from its text: a brief that
    reads differently on the next decision (a new similar case, the SLA nearer) plans the same
    key, so the outbox keeps the first note and the helpdesk gets one.
    """
    if not write_back or not newly_escalates(decision, previous):
        return []
    team, agent = _target(decision)
    want = TARGET_PRIORITY[decision.recommendation]
    current = PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else -1
    priority = want if PRIORITIES.index(want) > current else None
    group = team if team and team != ticket.group else None
    assignee = agent if agent and agent != ticket.assignee else None
    tags_add = tuple(t for t in (ESCALATED_TAG, tier_tag(decision.tier)) if t not in ticket.tags)
    old_tier = tier_tag(previous.tier) if previous is not None and previous.tier != decision.tier else None
    tags_remove = (old_tier,) if old_tier and old_tier in ticket.tags else ()
    intent = {
        "recommendation": decision.recommendation, "tier": decision.tier, "team": team, "agent": agent,
        "priority": want,
    }
    updates = [
        TicketUpdate(
            ticket_id=ticket.id, source=ticket.source, idempotency_key=idempotency_key(ticket.id, "escalate", intent),
            priority=priority, group=group, assignee=assignee, tags_add=tags_add, tags_remove=tags_remove,
            escalated=True,
        ),
        TicketUpdate(
            ticket_id=ticket.id, source=ticket.source, idempotency_key=idempotency_key(ticket.id, "handoff-note", intent),
            private_note=note if note and note.strip() else handoff_note(ticket, decision),
        ),
    ]
    return updates
