"""Repeat contact across helpdesks and channels."""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.engine.history import MemoryHistory
from deskwatch.core.model import Organization
from deskwatch.core.engine.signals.repeat import repeat_contact

from .conftest import NOW
from .test_signals_base import ctx_for, mk


def first():
    return mk("When I export invoices to CSV the file is empty.", id="zendesk:10", subject="Invoice CSV export empty",
              created=NOW - timedelta(days=6))


def second():
    return mk("The invoices CSV export is still empty.", id="freshdesk:20", subject="CSV export of invoices", channel="chat",
              created=NOW - timedelta(days=3), email="ALEX@acme.example")


def third():
    return mk("Third time: invoice export gives an empty CSV.", id="zendesk:30", subject="Re: Invoice CSV export empty",
              created=NOW - timedelta(hours=1))


def test_third_contact_via_two_helpdesks():
    batch = [first(), second(), third()]
    t = batch[2]
    s = repeat_contact(t, ctx_for(t, history=MemoryHistory(batch)))
    assert s is not None
    assert s.detail.startswith("3rd contact") and "freshdesk and zendesk" in s.detail
    assert any(e.startswith("freshdesk:20 (chat") for e in s.evidence)
    assert s.value > repeat_contact(batch[1], ctx_for(batch[1], history=MemoryHistory(batch))).value


def test_first_contact_does_not_fire_and_later_tickets_do_not_count():
    batch = [first(), second(), third()]
    assert repeat_contact(batch[0], ctx_for(batch[0], history=MemoryHistory(batch))) is None


def test_different_issue_does_not_count():
    other = mk("How do I add a teammate?", id="zendesk:40", subject="Add a teammate", created=NOW - timedelta(days=1))
    t = third()
    assert repeat_contact(t, ctx_for(t, history=MemoryHistory([other, t]))) is None


def test_outside_the_window_does_not_count():
    old = mk("Invoice CSV export is empty", id="zendesk:5", subject="Invoice CSV export empty", created=NOW - timedelta(days=40))
    t = third()
    assert repeat_contact(t, ctx_for(t, history=MemoryHistory([old, t]))) is None


def test_same_organization_and_shared_category_counts():
    org = Organization(id="o1", name="Acme Corp")
    a = mk("We were charged twice in October, please refund.", id="zendesk:50", subject="Billing", email="cfo@acme.example",
           org=org, created=NOW - timedelta(days=2))
    b = mk("I need the money back for the double charge.", id="salesforce:60", subject="Payment", email="ap@acme.example",
           org=Organization(id="x9", name="ACME  corp"), created=NOW - timedelta(hours=3))
    s = repeat_contact(b, ctx_for(b, history=MemoryHistory([a, b])))
    assert s is not None and "same refund issue" in s.evidence[0]
