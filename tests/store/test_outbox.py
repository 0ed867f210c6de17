from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.policy.actions import plan_updates
from deskwatch.core.model import TicketUpdate
from deskwatch.core.store import Store

from ..conftest import NOW
from .factory import decision, ticket


def _planned(store):
    t = ticket()
    store.save_page("zendesk", [t], (), None)
    return plan_updates(t, decision(), None, write_back=True)


def test_planning_the_same_update_twice_enqueues_once(store, now):
    ups = _planned(store)
    assert [store.enqueue(u, now) for u in ups] == [True, True]
    again = plan_updates(ticket(), decision(at=now + timedelta(minutes=5)), None, write_back=True)
    assert [u.idempotency_key for u in again] == [u.idempotency_key for u in ups]
    assert [store.enqueue(u, now) for u in again] == [False, False]
    assert store.outbox_depth() == 2


def test_claim_send_apply_lifecycle(store, now):
    ups = _planned(store)
    for u in ups:
        store.enqueue(u, now)
    claimed = store.claim("zendesk", 10, now)
    assert [c.key for c in claimed] == [u.idempotency_key for u in ups]
    assert all(c.state == "sending" and c.attempts == 1 for c in claimed)
    assert claimed[0].update == ups[0]
    assert store.claim("zendesk", 10, now + timedelta(seconds=5)) == []  # in flight: not claimed twice
    assert store.claim("freshdesk", 10, now) == []
    store.mark_applied(ups[0].idempotency_key, {"outcome": "applied", "message": ""}, now)
    item = store.outbox_item(ups[0].idempotency_key)
    assert item.state == "applied" and item.applied_at == now and item.summary == "reached the helpdesk"
    assert store.outbox_depth() == 1
    # Applied keys stay: planning it again later still does not send it again.
    assert store.enqueue(ups[0], now + timedelta(days=1)) is False


def test_item_left_sending_by_a_crash_is_claimed_again(tmp_path, now):
    path = tmp_path / "s.db"
    with Store(path) as s:
        for u in _planned(s):
            s.enqueue(u, now)
        first = s.claim("zendesk", 1, now)
        assert len(first) == 1
        # ... the daemon dies here, between sending and recording ...
    with Store(path) as s:
        assert s.claim("zendesk", 10, now + timedelta(seconds=1))[0].key != first[0].key  # only the other one
        again = s.claim("zendesk", 10, now + timedelta(seconds=300))  # its lease has run out
        assert [i.key for i in again] == [first[0].key] and again[0].attempts == 2
    with Store(path) as s:
        assert s.requeue_sending("zendesk") == 2  # at start-up: everything in flight goes back
        assert len(s.claim("zendesk", 10, now)) == 2


def test_restarts_do_not_use_up_attempts(tmp_path, now):
    path = tmp_path / "s.db"
    with Store(path) as s:
        [u] = _planned(s)[:1]
        s.enqueue(u, now)
    for _ in range(20):  # twenty kills mid-send
        with Store(path) as s:
            s.requeue_sending()
            assert [i.attempts for i in s.claim("zendesk", 1, now)] == [1]
    with Store(path) as s:
        s.mark_failed(u.idempotency_key, "refused", now)
        assert [i.attempts for i in s.claim("zendesk", 1, now + timedelta(seconds=1))] == [2]  # answers count


def test_an_update_given_up_after_an_answer_cut_short_is_checked_again_at_start(store, now):
    a, b = _planned(store)
    for u in (a, b):
        store.enqueue(u, now)
    store.claim("zendesk", 10, now)
    store.mark_failed(a.idempotency_key, "zd:1: the JSON body of PUT /api/v2/tickets/1 -> 200 is cut short or corrupted: {\"ti")
    store.mark_failed(b.idempotency_key, "zd:1: group 'x' is not a Zendesk group")
    assert store.outbox_failed() == 2
    store.requeue_sending()
    assert store.outbox_item(a.idempotency_key).state == "pending"  # the marker read settles it
    assert store.outbox_item(b.idempotency_key).state == "failed"  # a refusal stays given up
    assert store.outbox_failed() == 1


def test_release_puts_unsettled_items_back_and_leaves_settled_ones(store, now):
    ups = _planned(store)
    for u in ups:
        store.enqueue(u, now)
    a, b = store.claim("zendesk", 10, now)
    store.mark_applied(a.key, {"outcome": "applied"}, now)
    assert store.release([a.key, b.key]) == 1  # only the one still 'sending'
    assert store.outbox_item(a.key).state == "applied"
    back = store.outbox_item(b.key)
    assert back.state == "pending" and back.attempts == 0
    assert [i.key for i in store.claim("zendesk", 10, now)] == [b.key]  # claimable at once, no lease wait
    assert store.release([]) == 0


def test_failures_retry_later_or_give_up_with_the_reason(store, now):
    ups = _planned(store)
    for u in ups:
        store.enqueue(u, now)
    a, b = store.claim("zendesk", 10, now)
    store.mark_failed(a.key, "429 Too Many Requests; retry after 60s", retry_at=now + timedelta(seconds=60))
    store.mark_failed(b.key, "422 group 'Billing EU' does not exist on this helpdesk")
    assert store.claim("zendesk", 10, now + timedelta(seconds=30)) == []
    retried = store.claim("zendesk", 10, now + timedelta(seconds=60))
    assert [i.key for i in retried] == [a.key] and retried[0].attempts == 2
    view = {i.key: i.summary for i in store.outbox_for("zendesk:1001")}
    assert view[b.key] == "failed: 422 group 'Billing EU' does not exist on this helpdesk"
    assert store.outbox_failed() == 1 and store.outbox_depth() == 1
    with pytest.raises(KeyError):
        store.mark_applied("no-such-key", None, now)


def test_update_without_key_is_refused(store, now):
    with pytest.raises(ValueError, match="idempotency_key"):
        store.enqueue(TicketUpdate("zendesk:1", "zendesk", "", priority="high"), now)


def test_claim_respects_limit_and_order(store):
    for i in range(5):
        store.enqueue(TicketUpdate(f"zendesk:{i}", "zendesk", f"key{i}", priority="high"), NOW + timedelta(seconds=i))
    assert [i.key for i in store.claim("zendesk", 3, NOW + timedelta(minutes=1))] == ["key0", "key1", "key2"]
    assert [i.key for i in store.claim("zendesk", 3, NOW + timedelta(minutes=1))] == ["key3", "key4"]


def test_an_update_keeps_the_ticket_values_it_changes(store, now):
    ups = _planned(store)
    before = {"priority": "normal", "group": "Billing", "assignee": None, "tags": []}
    assert store.enqueue(ups[0], now, basis=before)
    assert store.outbox_item(ups[0].idempotency_key).basis == before
    assert store.enqueue(ups[1], now)  # a console action records none
    assert store.outbox_item(ups[1].idempotency_key).basis is None


def test_outbox_notes_lists_notes_by_their_opening(store, now):
    ups = _planned(store)
    for u in ups:
        store.enqueue(u, now)
    notes = store.outbox_notes("deskwatch escalated this ticket:")
    assert [i.key for i in notes] == [ups[1].idempotency_key]
    assert store.outbox_notes("Acknowledged") == []
    assert store.outbox_notes("deskwatch_escalated") == []  # "_" is a letter here, not a LIKE wildcard


def test_the_latest_decision_keeps_who_made_it_and_its_basis(store, now):
    store.save_page("zendesk", [ticket()], (), None)
    assert store.latest_basis("zendesk:1001") is None
    store.record_decision(decision(), basis="f1")
    store.record_decision(decision(at=now + timedelta(minutes=1)), actor="dana")
    assert store.latest_basis("zendesk:1001") == ("dana", None)
