"""Impact: affected users, "all our users", the same outage across organizations."""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.model import Organization
from deskwatch.core.engine.signals import IncidentIndex
from deskwatch.core.engine.signals.impact import customer_key, impact

from .conftest import NOW
from .test_signals_base import ctx_for, mk


def test_affected_users_scale():
    few = mk("Login fails.", affected_users=3)
    many = mk("Login fails.", affected_users=400)
    a, b = impact(few, ctx_for(few)), impact(many, ctx_for(many))
    assert 0 < a.value < b.value == 1.0
    assert "400 users affected" in b.evidence


def test_customer_says_everyone_is_affected():
    t = mk("Since the update nobody can open the planner, the whole team is blocked.")
    s = impact(t, ctx_for(t))
    assert s is not None and '"nobody can"' in s.evidence and '"whole team"' in s.evidence


def test_negated_and_single_user_do_not_fire():
    t = mk("Not all users are affected, only me. Hi everyone, small question about my avatar.")
    assert impact(t, ctx_for(t)) is None


def test_same_outage_from_several_organizations():
    reports = []
    tickets = []
    for i, name in enumerate(["Globex", "Initech", "Umbrella"]):
        t = mk("The dashboard is down, we get 503.", id=f"zendesk:{i}", email=f"ops@{name.lower()}.example",
               org=Organization(name=name), created=NOW - timedelta(minutes=30 - i * 5))
        tickets.append(t)
        reports.append((t.created_at, customer_key(t), t.id))
    far = mk("Outage again", id="zendesk:99", email="x@far.example", org=Organization(name="Far"),
             created=NOW - timedelta(days=2))
    reports.append((far.created_at, customer_key(far), far.id))
    index = IncidentIndex.build(reports)
    s = impact(tickets[0], ctx_for(tickets[0], incidents=index))
    assert s is not None and "2 other customers" in s.detail
    assert "zendesk:1" in s.evidence[-1] and "zendesk:99" not in s.evidence[-1]
