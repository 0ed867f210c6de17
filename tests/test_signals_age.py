"""Age and waiting time."""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.engine.signals.age import age

from .conftest import NOW
from .test_signals_base import ctx_for, mk


def test_customer_waiting_a_day_fires_fully():
    t = mk("Any news?", created=NOW - timedelta(hours=30))
    s = age(t, ctx_for(t))
    assert s.value == 1.0 and any("no agent reply after" in e for e in s.evidence)


def test_waiting_counts_from_after_the_last_agent_reply():
    t = mk("Broken.", ("agent", "Looking into it."), "Any update?", created=NOW - timedelta(hours=50), step=timedelta(hours=24))
    # the customer's follow-up came 2 hours ago
    s = age(t, ctx_for(t))
    assert any(e == "customer waiting 2.0 h since the last agent reply" for e in s.evidence)


def test_fresh_ticket_and_pending_ticket_do_not_fire():
    fresh = mk("Hello", created=NOW - timedelta(minutes=10))
    assert age(fresh, ctx_for(fresh)) is None
    pending = mk("Hello", ("agent", "Can you send a screenshot?"), created=NOW - timedelta(days=5), status="pending")
    assert age(pending, ctx_for(pending)) is None


def test_agent_replied_last_only_age_counts():
    t = mk("Hello", ("agent", "Done, anything else?"), created=NOW - timedelta(days=4), step=timedelta(days=3))
    s = age(t, ctx_for(t))
    assert s.value == 0.5 and s.detail.startswith("Open for")
