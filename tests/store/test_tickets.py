from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.model import Message, StatusChange
from deskwatch.core.store import Store

from ..conftest import NOW
from .factory import decision, ticket


def test_save_page_reports_new_then_nothing_for_the_same_page(store):
    page = [ticket("zendesk:1"), ticket("zendesk:2", email="li.wei@contoso.example", org="Contoso")]
    first = store.save_page("zendesk", page, (), {"cursor": "c1"})
    assert first.new == ("zendesk:1", "zendesk:2") and first.changed == () and first.to_decide == first.new
    v = store.current_version()
    again = store.save_page("zendesk", page, (), {"cursor": "c1"})
    assert again.to_decide == () and again.unchanged == ("zendesk:1", "zendesk:2")
    assert store.current_version() == v  # nothing written, consoles see no change
    assert store.get_bookmark("zendesk") == {"cursor": "c1"}
    assert store.ticket_count() == 2


def test_ticket_round_trips_with_messages(store):
    t = ticket(extra_messages=(Message("agent", NOW - timedelta(hours=2), "Looking into it.", False, "agent-7"),))
    store.save_page("zendesk", [t], (), None)
    assert store.get_ticket(t.id) == t
    assert store.get_ticket("zendesk:404") is None


def test_newer_version_replaces_older_never_overwrites_newer(store):
    old = ticket(updated=NOW - timedelta(hours=2), subject="Charged twice")
    new = ticket(updated=NOW - timedelta(hours=1), subject="Charged twice — still no refund", priority="high")
    assert store.save_page("zendesk", [old], (), None).new == (old.id,)
    assert store.save_page("zendesk", [new], (), None).changed == (new.id,)
    late = store.save_page("zendesk", [old], (), None)  # a replayed, older page
    assert late.unchanged == (old.id,)
    assert store.get_ticket(old.id).subject == "Charged twice — still no refund"


def test_same_second_edit_with_different_content_counts_as_a_change(store):
    a = ticket(updated=NOW)
    b = ticket(updated=NOW, assignee="ana")
    store.save_page("zendesk", [a], (), None)
    assert store.save_page("zendesk", [b], (), None).changed == (a.id,)
    assert store.get_ticket(a.id).assignee == "ana"


def test_bookmark_is_committed_with_its_page_or_not_at_all(store):
    store.save_page("zendesk", [ticket("zendesk:1")], (), {"cursor": "c1"})
    # The bookmark cannot be written (not JSON): the whole page must be rolled back.
    with pytest.raises(TypeError):
        store.save_page("zendesk", [ticket("zendesk:2"), ticket("zendesk:3")], ("zendesk:1",), object())
    assert store.get_ticket("zendesk:2") is None and store.get_ticket("zendesk:3") is None
    assert store.get_ticket("zendesk:1") is not None  # the deletion was rolled back too
    assert store.get_bookmark("zendesk") == {"cursor": "c1"}
    # A bad ticket in the middle of a page also stores nothing of it.
    with pytest.raises(ValueError, match="freshdesk"):
        store.save_page("zendesk", [ticket("zendesk:4"), ticket("freshdesk:5")], (), {"cursor": "c2"})
    assert store.get_ticket("zendesk:4") is None and store.get_bookmark("zendesk") == {"cursor": "c1"}


def test_bookmark_survives_reopening(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        s.save_page("freshdesk", [ticket("freshdesk:77")], (), {"updated_since": "2026-11-23T09:00:00Z", "page": 3})
    with Store(path) as s:
        assert s.get_bookmark("freshdesk") == {"updated_since": "2026-11-23T09:00:00Z", "page": 3}
        assert s.get_bookmark("salesforce") is None


def test_deleted_tickets_leave_the_store_views(store):
    store.save_page("zendesk", [ticket("zendesk:1"), ticket("zendesk:2")], (), None)
    store.record_decision(decision("zendesk:1"))
    res = store.save_page("zendesk", [], ("zendesk:1", "zendesk:999"), None)
    assert res.deleted == ("zendesk:1",)  # unknown ids are ignored
    assert store.get_ticket("zendesk:1") is None
    assert [r.ticket_id for r in store.queue()] == ["zendesk:2"]
    assert store.decisions_for("zendesk:1")  # the history is kept
    assert store.save_page("zendesk", [], ("zendesk:1",), None).deleted == ()


def test_observed_status_transitions_are_appended(store):
    t0 = NOW - timedelta(hours=3)
    store.save_page("zendesk", [ticket(status="open", created=t0, updated=t0 + timedelta(minutes=1))], (), None)
    store.save_page("zendesk", [ticket(status="pending", created=t0, updated=t0 + timedelta(hours=1))], (), None)
    # The same pending ticket again with a later edit is not a new transition.
    store.save_page("zendesk", [ticket(status="pending", created=t0, updated=t0 + timedelta(hours=1, minutes=5), priority="high")], (), None)
    store.save_page("zendesk", [ticket(status="open", created=t0, updated=t0 + timedelta(hours=2))], (), None)
    history = store.get_ticket("zendesk:1001").status_history
    assert history == (
        StatusChange("pending", t0 + timedelta(hours=1)),
        StatusChange("open", t0 + timedelta(hours=2)),
    )


def test_helpdesk_reported_history_is_merged_with_observed(store):
    t0 = NOW - timedelta(hours=3)
    reported = (StatusChange("new", t0), StatusChange("open", t0 + timedelta(minutes=2)))
    first = ticket(status="open", created=t0, updated=t0 + timedelta(minutes=3))
    store.save_page("zendesk", [type(first)(**{**vars(first), "status_history": reported})], (), None)
    store.save_page("zendesk", [ticket(status="on_hold", created=t0, updated=t0 + timedelta(hours=1))], (), None)
    assert [c.status for c in store.get_ticket("zendesk:1001").status_history] == ["new", "open", "on_hold"]


def test_history_view_finds_same_customer_across_sources_oldest_first(store):
    maria_zd = ticket("zendesk:1", created=NOW - timedelta(days=5))
    maria_fd = ticket("freshdesk:8", created=NOW - timedelta(days=2), org=None, channel="chat")
    colleague = ticket("salesforce:500A", created=NOW - timedelta(days=1), email="tom.berg@northwind.example", name="Tom Berg")
    stranger = ticket("zendesk:2", email="li.wei@contoso.example", org="Contoso")
    current = ticket("zendesk:3", created=NOW - timedelta(hours=1))
    store.save_page("zendesk", [maria_zd, stranger, current], (), None)
    store.save_page("freshdesk", [maria_fd], (), None)
    store.save_page("salesforce", [colleague], (), None)
    related = store.history().related(current)
    assert [t.id for t in related] == ["zendesk:1", "freshdesk:8", "salesforce:500A"]
    assert related[1].messages == maria_fd.messages
    assert store.history(limit=2).related(current)[0].id == "freshdesk:8"  # the most recent two
    store.save_page("zendesk", [], ("zendesk:1",), None)
    assert "zendesk:1" not in [t.id for t in store.history().related(current)]


def test_history_query_uses_the_indexes(sqlite_store):  # SQLite's planner; bench/store.py times PostgreSQL
    store = sqlite_store
    plan = store._q(
        "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE requester_key = ? UNION SELECT id FROM tickets WHERE organization_key = ?",
        ("email:a@b", "name:x"),
    )
    text = " ".join(r["detail"] for r in plan)
    assert "tickets_requester" in text and "tickets_organization" in text


def test_load_counts_open_tickets_and_last_routed_agent(store):
    store.save_page("zendesk", [
        ticket("zendesk:1", assignee="ana", group="Billing"),
        ticket("zendesk:2", assignee="ana", group="Billing"),
        ticket("zendesk:3", assignee="bo", group="Platform"),
        ticket("zendesk:4", assignee="bo", group="Platform", status="solved"),
    ], (), None)
    store.record_decision(decision("zendesk:1", team="billing", agent="ana"))
    store.record_decision(decision("zendesk:2", team="billing", agent="carla"))
    store.record_decision(decision("zendesk:3", team="platform", agent=None))
    load = store.load_counts()
    assert load.by_agent == {"ana": 2, "bo": 1}
    assert load.by_team == {"Billing": 2, "Platform": 1}
    assert load.last_assigned == {"billing": "carla"}


def test_sync_counters_and_last_success(store, now):
    store.save_page("zendesk", [ticket("zendesk:1"), ticket("zendesk:2")], (), None, now=now)
    store.save_page("zendesk", [ticket("zendesk:1")], (), None)
    [src] = store.status(now).sources
    assert src.name == "zendesk" and src.tickets_synced == 2 and src.last_success_at == now and src.open_tickets == 2


def test_a_ticket_twice_in_one_page_is_saved_as_if_page_by_page(store):
    # save_page reads a page in one query and writes it in batches: later copies of a ticket
    # must still see the earlier ones, as they would saved one after the other.
    t0 = NOW - timedelta(hours=3)
    opened = ticket(status="open", created=t0, updated=t0 + timedelta(minutes=1))
    solved = ticket(status="solved", created=t0, updated=t0 + timedelta(hours=1),
                    extra_messages=(Message("agent", t0 + timedelta(minutes=50), "Refunded.", True, "agent-7"),))
    reopened = ticket(status="open", created=t0, updated=t0 + timedelta(hours=2),
                      extra_messages=(Message("customer", t0 + timedelta(hours=2), "Still charged twice.", True, "cust-1"),))
    other = ticket("zendesk:1002", status="solved", created=t0, updated=t0 + timedelta(hours=1))
    result = store.save_page("zendesk", [opened, other, solved, opened, reopened], (), None)
    assert result.new == ("zendesk:1001", "zendesk:1002")
    assert result.changed == ("zendesk:1001", "zendesk:1001") and result.unchanged == ("zendesk:1001",)  # the replayed older copy
    got = store.get_ticket("zendesk:1001")
    assert got.messages == reopened.messages and got.status == "open"
    assert got.status_history == (StatusChange("solved", t0 + timedelta(hours=1)), StatusChange("open", t0 + timedelta(hours=2)))
    # Solved then reopened in the same page: out of the similar-tickets index; the other one in it.
    assert [r[0] for r in store.read("SELECT id FROM similar_docs ORDER BY id")] == ["zendesk:1002"]
    assert store.save_page("zendesk", [reopened, other], (), None).unchanged == ("zendesk:1001", "zendesk:1002")
