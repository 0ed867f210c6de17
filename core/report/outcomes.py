"""Per ticket: what deskwatch did, what people did after, and how the two compare.

One ``Outcome`` per ticket, derived from its decisions and audit trail (``data.py``); every
figure of the report is a count or a median over these. The rules are spelled out in
docs/report.md; they are kept here, in one place, so the report and its tests agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from deskwatch.core.model.timeutil import parse_time
from deskwatch.core.report.data import ENGINE_ACTOR, ESCALATING, DecisionRow, TicketFacts


@dataclass(frozen=True)
class Outcome:
    facts: TicketFacts
    decided: bool  # deskwatch decided the ticket at least once
    escalation: DecisionRow | None  # deskwatch's first escalating decision
    person_escalated_at: datetime | None  # a person's first escalation (escalate, or override up)
    false_escalation: bool  # deskwatch escalated; a person overrode down or rejected it in review
    miss: bool  # a person escalated before (or without) deskwatch escalating
    rerouted: bool  # deskwatch escalated; a person escalated to another team or agent after
    escalations: int  # times the ticket went into escalation (any actor)
    to_escalation: timedelta | None  # customer message that made it escalation-worthy -> decision
    to_acknowledgment: timedelta | None  # deskwatch's escalation -> a person's acknowledgment
    to_resolution: timedelta | None
    team: str | None
    tier: str | None  # deskwatch's tier (of its escalation, else of its latest decision)

    @property
    def escalated(self) -> bool:
        return self.escalation is not None

    @property
    def management(self) -> bool:
        return self.escalation is not None and self.escalation.management


def outcome(t: TicketFacts) -> Outcome:
    """Everything the report says about one ticket."""
    engine = [d for d in t.decisions if d.actor == ENGINE_ACTOR]
    esc = next((d for d in engine if d.escalating), None)
    people = [a for a in t.audits if a.actor != ENGINE_ACTOR]
    person_up = [a for a in people if a.kind == "escalate" or (a.kind == "override" and a.data.get("to") in ESCALATING)]
    person_escalated_at = person_up[0].at if person_up else None
    false = False
    rerouted = False
    to_ack = None
    if esc is not None:
        after = [a for a in people if a.at >= esc.at]
        false = any(
            (a.kind == "override" and a.data.get("to") not in ESCALATING)
            or (a.kind == "feedback" and not a.data.get("accept") and a.data.get("recommendation") in ESCALATING)
            for a in after
        )
        rerouted = any(a.kind == "escalate" and _elsewhere(a.data, esc) for a in after)
        acks = [_ack_time(a.data, a.at) for a in t.audits if a.kind == "acknowledge"]
        acks = [at for at in acks if at >= esc.at]
        to_ack = min(acks) - esc.at if acks else None
    miss = person_escalated_at is not None and (esc is None or esc.at > person_escalated_at)
    trigger = [m for m in t.customer_times if esc is not None and m <= esc.at]
    latest = engine[-1] if engine else None
    return Outcome(
        facts=t,
        decided=bool(engine),
        escalation=esc,
        person_escalated_at=person_escalated_at,
        false_escalation=false,
        miss=miss,
        rerouted=rerouted,
        escalations=_episodes(t.decisions),
        to_escalation=(esc.at - trigger[-1]) if esc is not None and trigger else None,
        to_acknowledgment=to_ack,
        to_resolution=(t.resolved_at - t.created_at) if t.resolved_at else None,
        team=(esc or latest).team if (esc or latest) else None,
        tier=(esc or latest).tier if (esc or latest) else None,
    )


def _elsewhere(data: dict, esc: DecisionRow) -> bool:
    team = data.get("team")
    agent = data.get("agent")
    return (team is not None and team != esc.team) or (agent is not None and agent != esc.agent)


def _ack_time(data: dict, at: datetime) -> datetime:
    # An acknowledgment by a helpdesk reply is recorded when seen, with the reply's own time.
    value = data.get("at")
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:
            return at
    return at


def _episodes(decisions: list[DecisionRow]) -> int:
    """How many times the ticket's decisions went from not escalating to escalating."""
    n, up = 0, False
    for d in decisions:
        if d.escalating and not up:
            n += 1
        up = d.escalating
    return n
