"""A person's decision holds: later engine decisions do not quietly undo it.

An on-call engineer who overrides a recommendation ("false alarm", down to none) or escalates a
ticket by hand to a team has looked at the ticket. When the ticket changes afterwards (the
customer writes "thanks"), the engine decides again from much the same signals. If that new
decision simply replaced the person's, the daemon would escalate the ticket again (paging
on-call again) or route it away from the team the person chose, and write that back to the
helpdesk.

So the person's choice holds over later engine decisions until something new comes up:

- the engine recommends more than both the recommendation the person overruled and the one
  they chose (an override of "priority" down to "none" ends when the engine says "immediate");
- a hard trigger category fires that was not firing when the person decided (a data breach
  reported after a "false alarm");
- the ticket is solved or closed.

A held decision keeps the engine's score, signals and SLA, carries the person's
recommendation (and, for an escalation by hand or an override made over one, the tier, team
and agent a person chose), and says in its first reason whose choice it carries and what the
engine alone would say. Pure functions: the store keeps the hold as an audit record
(``override``/``escalate``), and its end as one too (``hold_ended``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Mapping, Sequence

from deskwatch.core.model import CLOSED_STATUSES, RECOMMENDATIONS, AuditRecord, Decision, Route, Signal

# Audit kinds that start a hold, and the one that ends it.
HOLD_KINDS = ("override", "escalate")
HOLD_ENDED = "hold_ended"


@dataclass(frozen=True)
class Hold:
    kind: str  # "override" (the recommendation) or "escalate" (tier, team, agent by hand)
    actor: str
    at: datetime
    reason: str
    recommendation: str  # what the person set
    overruled: str | None = None  # the recommendation they saw and replaced
    hard: tuple[str, ...] = ()  # hard trigger categories firing when they decided
    tier: str | None = None
    team: str | None = None
    agent: str | None = None


def hard_categories(signals: Sequence[Signal]) -> tuple[str, ...]:
    """The hard trigger categories among ``signals``, sorted."""
    return tuple(sorted({s.category for s in signals if s.hard and s.category}))


def hold_data(decision: Decision | None) -> dict[str, Any]:
    """What an override or escalation records about the decision it replaces, so the hold
    can later tell what is new."""
    if decision is None:
        return {"from": None, "hard": []}
    return {"from": decision.recommendation, "hard": list(hard_categories(decision.signals))}


def from_audit(record: AuditRecord | None) -> Hold | None:
    """The hold an audit record starts, or None (no record, a ``hold_ended`` record, or a
    record without a recommendation, such as a route override made outside ``operations``)."""
    if record is None or record.kind not in HOLD_KINDS:
        return None
    d: Mapping[str, Any] = record.data
    rec = d.get("to") if record.kind == "override" else d.get("recommendation")
    if rec not in RECOMMENDATIONS:
        return None
    overruled = d.get("from")
    return Hold(
        kind=record.kind,
        actor=record.actor,
        at=record.at,
        reason=str(d.get("reason") or ""),
        recommendation=rec,
        overruled=overruled if overruled in RECOMMENDATIONS else None,
        hard=tuple(d.get("hard") or ()),
        # An escalation by hand names its route; an override carries the route of the
        # escalation by hand it was made over (``route_data``), if any.
        tier=d.get("tier"),
        team=d.get("team"),
        agent=d.get("agent"),
    )


def route_data(hold: Hold | None) -> dict[str, Any]:
    """The person's route a standing ``hold`` carries, for the audit record of an override
    made over it: {} when the hold names none (an override of an engine decision)."""
    if hold is None or not (hold.tier or hold.team or hold.agent):
        return {}
    return {"tier": hold.tier, "team": hold.team, "agent": hold.agent}


def _rank(recommendation: str | None) -> int:
    return RECOMMENDATIONS.index(recommendation) if recommendation in RECOMMENDATIONS else -1


def ended_by(hold: Hold, decision: Decision, status: str) -> str | None:
    """Why ``decision`` (the engine's own) ends ``hold``, or None if the hold still stands."""
    if status in CLOSED_STATUSES:
        return f"the ticket is {status}"
    new_hard = sorted(set(hard_categories(decision.signals)) - set(hold.hard))
    if new_hard:
        return f"a new hard trigger fired: {', '.join(new_hard)}"
    if _rank(decision.recommendation) > max(_rank(hold.overruled), _rank(hold.recommendation)):
        return f"the engine now recommends {decision.recommendation}"
    return None


def held(decision: Decision, hold: Hold) -> Decision:
    """``decision`` carrying the person's choice. A person decided, so it needs no review."""
    what = f"{hold.recommendation}" if hold.kind == "override" else f"escalated to {_where(hold)}"
    if hold.kind == "override" and _where(hold):
        what += f", staying with {_where(hold)}"
    line = (
        f"held: {hold.actor}'s {hold.kind} ({what}) stands: {hold.reason or 'no reason given'}; "
        f"the engine alone says {decision.recommendation} (score {decision.score:.0f})"
    )
    changes: dict[str, Any] = {}
    if hold.tier:
        team = hold.team if hold.team is not None else decision.team
        changes = {
            "tier": hold.tier,
            "team": team,
            "route": Route(hold.tier, team, hold.agent, False, None,
                           f"escalated by {hold.actor}: {hold.reason}" if hold.kind == "escalate"
                           else f"kept where it was escalated by hand ({hold.actor}'s override: {hold.reason})"),
        }
    return replace(
        decision,
        recommendation=hold.recommendation,
        confidence=1.0,
        needs_review=False,
        reasons=(line, *decision.reasons),
        **changes,
    )


def ended_record(ticket_id: str, hold: Hold, why: str, actor: str, now: datetime) -> AuditRecord:
    """The audit record that ends ``hold``; the engine's decisions stand on their own again."""
    return AuditRecord(
        ticket_id, HOLD_ENDED, actor, now,
        {"kind": hold.kind, "actor": hold.actor, "since": hold.at, "why": why},
    )


def _where(hold: Hold) -> str:
    return " / ".join(p for p in (hold.tier, hold.team, hold.agent) if p)
