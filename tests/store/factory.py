"""Realistic tickets and decisions for the store tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from deskwatch.core.model import (
    Decision, Message, Organization, Person, Route, Signal, SlaStatus, SlaTarget, Ticket,
)

from ..conftest import NOW


def ticket(
    tid: str = "zendesk:1001", *, status: str = "open", updated: datetime | None = None, subject: str = "Charged twice for the annual plan",
    email: str = "maria.lopez@northwind.example", name: str = "Maria Lopez", org: str | None = "Northwind Traders",
    annual_value: float | None = 48000.0, channel: str = "email", priority: str | None = "normal", assignee: str | None = None,
    group: str | None = "Billing", created: datetime | None = None, body: str = "Hi, my card was charged twice this morning. Please refund one of the payments.",
    extra_messages: tuple[Message, ...] = (), tags: tuple[str, ...] = (),
) -> Ticket:
    created = created or NOW - timedelta(hours=3)
    return Ticket(
        id=tid, source=tid.split(":")[0], channel=channel, subject=subject, status=status, priority=priority,
        created_at=created, updated_at=updated or created + timedelta(minutes=5),
        messages=(Message("customer", created, body, True, "cust-1"), *extra_messages),
        requester=Person(id="cust-1", email=email, name=name),
        organization=Organization(id="org-9", name=org, annual_value=annual_value) if org else None,
        assignee=assignee, group=group, tags=tags,
    )


def decision(
    tid: str = "zendesk:1001", *, score: float = 72.0, recommendation: str = "priority", tier: str = "tier2",
    team: str | None = "billing", agent: str | None = None, needs_review: bool = False, confidence: float = 0.8,
    due: datetime | None = None, sla_state: str = "ok", at: datetime = NOW,
) -> Decision:
    sla = SlaStatus("enterprise", (SlaTarget("first_response", due or NOW + timedelta(hours=1), 40.0, sla_state, True, 60),))
    return Decision(
        ticket_id=tid, score=score, recommendation=recommendation, tier=tier, team=team, confidence=confidence,
        needs_review=needs_review,
        signals=(Signal("sentiment", 0.8, 20, 16.0, ("charged twice",), "angry about a double charge"),),
        reasons=("Double charge on an enterprise account", "Customer wrote twice in an hour"),
        decided_at=at, sla=sla, route=Route(tier, team, agent, False, 0, "billing issues go to the billing team"),
    )
