"""The shared vocabulary: tickets, messages, signals, SLA status, routes, decisions, updates.

Frozen dataclasses, passed between small functions; no I/O."""


from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping


CHANNELS = ("email", "chat", "phone", "web", "social", "api", "other")
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
CLOSED_STATUSES = ("solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
AUTHORS = ("customer", "agent", "system")
RECOMMENDATIONS = ("none", "monitor", "priority", "immediate")
# Functional levels: how much expertise a ticket needs (tier0 self-service .. tier3 engineering).
TIERS = ("tier0", "tier1", "tier2", "tier3")
# Management is not a functional level: hierarchical escalation brings managers in beside the
# team working the ticket (Decision.management, Route.management). A team or a chain step may
# still sit at this level.
MANAGEMENT = "management"
LEVELS = TIERS + (MANAGEMENT,)
SLA_STATES = ("ok", "warning", "breached", "paused", "met")


class TicketError(ValueError):
    """A ticket (from a file or a helpdesk) that cannot be read; the message names the field."""


@dataclass(frozen=True)
class Person:
    id: str | None = None
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Organization:
    id: str | None = None
    name: str | None = None
    annual_value: float | None = None
    tier: str | None = None
    renewal_date: date | None = None
    health: float | None = None  # 0 (about to churn) .. 1 (healthy)


@dataclass(frozen=True)
class Message:
    author: str  # one of AUTHORS
    created_at: datetime
    body: str
    public: bool = True
    author_id: str | None = None  # lets the loop signal tell agents apart


@dataclass(frozen=True)
class StatusChange:
    """The ticket entered ``status`` at ``at``; the SLA clock pauses in pending and on_hold."""

    status: str
    at: datetime


@dataclass(frozen=True)
class Satisfaction:
    """The customer's satisfaction rating of the ticket, as the helpdesk reports it."""

    score: str  # one of SATISFACTION_SCORES
    at: datetime | None = None  # when it was given, when the helpdesk says
    comment: str | None = None


SATISFACTION_SCORES = ("bad", "neutral", "good")


@dataclass(frozen=True)
class Ticket:
    id: str  # unique across helpdesks: "<source>:<native id>"
    source: str
    channel: str
    subject: str
    status: str
    priority: str | None
    created_at: datetime
    updated_at: datetime
    messages: tuple[Message, ...]
    requester: Person | None = None
    organization: Organization | None = None
    assignee: str | None = None
    group: str | None = None
    tags: tuple[str, ...] = ()
    affected_users: int | None = None
    url: str | None = None
    # Known status transitions, oldest first. Optional: helpdesks that report them fill it in,
    # and the store adds the transitions it observes between syncs.
    status_history: tuple[StatusChange, ...] = ()
    satisfaction: Satisfaction | None = None  # the customer's rating, where the helpdesk has one

    @property
    def native_id(self) -> str:
        """The id the helpdesk itself knows the ticket by."""
        return self.id.split(":", 1)[1] if ":" in self.id else self.id

    @property
    def customer_messages(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.author == "customer")


@dataclass(frozen=True)
class Signal:
    """One reason the engine considered: how strongly it fired and why."""

    name: str
    value: float  # 0..1, how strongly the signal fired
    weight: float
    contribution: float  # value * weight, in score points
    evidence: tuple[str, ...] = ()  # exact words or facts that fired it
    detail: str = ""  # a short sentence for a person
    category: str | None = None  # trigger category, when the signal is a trigger
    hard: bool = False  # escalate regardless of the score


@dataclass(frozen=True)
class SlaTarget:
    name: str  # first_response, next_response, resolution
    due_at: datetime | None
    elapsed_pct: float  # share of the target used so far, 0..n (over 100 once breached)
    state: str  # one of SLA_STATES
    business: bool = True  # business minutes (True) or calendar minutes
    minutes: int = 0  # the target itself


@dataclass(frozen=True)
class SlaStatus:
    policy: str
    targets: tuple[SlaTarget, ...]

    @property
    def state(self) -> str:
        """The most pressing state among the targets."""
        order = ("breached", "warning", "ok", "paused", "met")
        states = [t.state for t in self.targets] or ["met"]
        return min(states, key=order.index)

    @property
    def next_due(self) -> datetime | None:
        dues = [t.due_at for t in self.targets if t.due_at and t.state not in ("met",)]
        return min(dues) if dues else None


@dataclass(frozen=True)
class Route:
    tier: str
    team: str | None
    agent: str | None
    on_call: bool
    chain_step: int | None
    reason: str
    chain: str | None = None  # the escalation chain whose step this is (its timer says when it moves)
    management: str | None = None  # the person or team management attention goes to (routing.management)
    page: bool = False  # someone is interrupted now (an incident or a rule with page = true)


@dataclass(frozen=True)
class Management:
    """Why a ticket needs management attention (hierarchical escalation), with the evidence."""

    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class LearnedReading:
    """What the active learned models said about a ticket (see core/engine/learned.py)."""

    team: tuple[str, float, tuple[str, ...]] | None = None  # (label, p, words that pushed toward it)
    tone: tuple[str, float] | None = None  # latest customer message: (label, p)
    escalation: float | None = None  # probability a person would escalate
    versions: Mapping[str, int] = field(default_factory=dict)  # kind -> model version


@dataclass(frozen=True)
class Decision:
    ticket_id: str
    score: float  # 0..100
    recommendation: str  # one of RECOMMENDATIONS
    tier: str  # one of TIERS: the functional level (expertise), never the urgency
    team: str | None
    confidence: float  # 0..1
    needs_review: bool
    signals: tuple[Signal, ...]
    reasons: tuple[str, ...]
    decided_at: datetime
    sla: SlaStatus | None = None
    route: Route | None = None
    # The tone of each customer message, oldest first (-1..1, cues included): what the sentiment
    # and trajectory signals read, kept so a console can draw it without an analyzer of its own.
    tones: tuple[float, ...] = ()
    management: Management | None = None  # hierarchical escalation: None, or why managers need to know
    page: bool = False  # interrupt someone now: incidents only (or a rule's page = true)
    page_reason: str | None = None
    learned: LearnedReading | None = None  # when learned models are active


@dataclass(frozen=True)
class TicketUpdate:
    """What deskwatch wants changed on a helpdesk ticket; applied by the source's connector.

    ``idempotency_key`` is stable for the same intent, so a connector can tell that it already
    applied an update (it writes the key into the ticket, e.g. as a tag or note marker).
    """

    ticket_id: str
    source: str
    idempotency_key: str
    priority: str | None = None
    group: str | None = None
    assignee: str | None = None
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()
    escalated: bool | None = None
    status: str | None = None
    private_note: str | None = None

    @property
    def native_id(self) -> str:
        return self.ticket_id.split(":", 1)[1] if ":" in self.ticket_id else self.ticket_id


@dataclass(frozen=True)
class AuditRecord:
    """One thing that happened to a ticket, with who did it and when."""

    ticket_id: str
    kind: str  # decision, action, override, acknowledge, snooze, note, feedback, ...
    actor: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
