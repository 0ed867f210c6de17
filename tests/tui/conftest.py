from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.model import Message, Route, Signal
from deskwatch.core.store import Store
from deskwatch.tui.app import DeskwatchApp
from deskwatch.tui.context import Console

from ..conftest import NOW
from ..store.factory import decision, ticket


def fill(store: Store) -> None:
    """A small floor: two helpdesks, several channels, one undecided and one solved ticket."""
    store.save_page("zendesk", [
        ticket("zendesk:1", subject="Invoice question about VAT", email="a@alpha.example", org="Alpha GmbH", annual_value=1200.0),
        ticket("zendesk:2", subject="Production API down for all users", email="b@beta.example", name="Bo Berg", org="Beta Bank",
               annual_value=250000.0, channel="phone", priority="high",
               body="Our production API has been down for an hour. This is unacceptable, we are losing money.",
               extra_messages=(Message("agent", NOW - timedelta(hours=2), "We are looking into it.", True, "ag-1"),
                               Message("customer", NOW - timedelta(hours=1), "Still down!!! I will cancel our contract if this is not fixed today.", True, "cust-1"))),
        ticket("zendesk:3", subject="GDPR data deletion request", email="c@gamma.example", org="Gamma", assignee="ana"),
        ticket("zendesk:4", subject="How do I change my avatar?", email="d@delta.example", org=None, name="Dee Dee", channel="chat"),
        ticket("zendesk:5", subject="Old resolved thing", email="e@eps.example", org="Eps", status="solved"),
    ], (), None)
    store.save_page("freshdesk", [
        ticket("freshdesk:10", subject="Outage: dashboards not loading", email="f@phi.example", name="Fiona Reyes", org="Phi Health", channel="web"),
        ticket("freshdesk:11", subject="Refund not received", email="g@chi.example", org="Chi", channel="email"),
    ], (), None)
    store.record_decision(decision("zendesk:1", score=30, recommendation="monitor", tier="tier1", team="billing"))
    d2 = decision("zendesk:2", score=95, recommendation="immediate", tier="tier3", team="platform", due=NOW + timedelta(minutes=30), sla_state="warning")
    from dataclasses import replace
    d2 = replace(d2, signals=(
        Signal("impact", 1.0, 30, 30.0, ("production API has been down", "all users"), "an outage for every user", "outage", True),
        Signal("sentiment", 0.7, 20, 14.0, ("unacceptable",), "angry"),
        Signal("churn", 0.9, 15, 13.5, ("cancel our contract",), "threatens to leave"),
    ), route=Route("tier3", "platform", "ana", True, 1, "outages go to platform on call"), tones=(-0.2, -0.5))
    store.record_decision(d2)
    store.record_decision(decision("freshdesk:10", score=95, recommendation="immediate", tier="tier3", team="platform", due=NOW - timedelta(minutes=10), sla_state="breached"))
    store.record_decision(decision("zendesk:3", score=70, recommendation="priority", tier="tier2", team="legal", needs_review=True, confidence=0.4))
    store.record_decision(decision("freshdesk:11", score=78, recommendation="priority", tier="tier2", team="billing"))
    store.record_decision(decision("zendesk:5", score=99, recommendation="immediate", tier="tier3", team="platform"))
    store.record_sync_ok("zendesk", NOW - timedelta(seconds=40))
    store.record_sync_ok("freshdesk", NOW - timedelta(hours=2))
    store.record_sync_error("freshdesk", "HTTP 401 from freshdesk: check sources.freshdesk.api_key", NOW - timedelta(minutes=5))
    store.heartbeat(4242, NOW - timedelta(seconds=3), 5.0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "deskwatch.db")
    fill(s)
    yield s
    s.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def console(store, clock):
    return Console(store=store, actor="ana", clock=clock, write_back={"zendesk": True, "freshdesk": False},
                   refresh_interval=60.0, max_rows=100, sources=("freshdesk", "zendesk"))


@pytest.fixture
def app(console):
    return DeskwatchApp(console)
