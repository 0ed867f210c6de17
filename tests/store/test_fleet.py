"""Several daemons on one store: daemon rows, source leases, and claims that two daemons never
share (outbox items, notifications, chain timers). Each test takes the ``store`` fixture, so it
runs on every store kind; "another daemon" is a second connection to the same store."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core.model import TicketUpdate
from deskwatch.core.store import DaemonIdInUse, Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def other(store: Store) -> Store:
    """A second connection to ``store``, as another daemon process would open."""
    url = getattr(store, "url", None)
    return Store(url=url) if url else Store(store.path)


def test_a_lease_is_held_by_one_daemon_until_it_expires_or_is_let_go(store):
    assert store.take_lease("zendesk", "a", T0, 30)
    assert not store.take_lease("zendesk", "b", T0 + timedelta(seconds=10), 30)  # a holds it
    assert store.take_lease("zendesk", "a", T0 + timedelta(seconds=10), 30)  # renewed
    assert not store.take_lease("zendesk", "b", T0 + timedelta(seconds=39), 30)  # renewal moved the expiry
    assert store.take_lease("zendesk", "b", T0 + timedelta(seconds=40), 30)  # a stopped renewing: expired
    assert not store.take_lease("zendesk", "a", T0 + timedelta(seconds=41), 30)
    [lease] = store.leases()
    assert (lease.holder, lease.taken_at) == ("b", T0 + timedelta(seconds=40))
    assert store.release_lease("zendesk", "b", T0 + timedelta(seconds=50))
    assert not store.release_lease("zendesk", "b", T0 + timedelta(seconds=50))  # nothing left to let go
    assert store.take_lease("zendesk", "a", T0 + timedelta(seconds=51), 30)  # free at once, no expiry wait
    holds = store.lease_holds("zendesk")
    assert [(h.holder, h.taken_at, h.end, h.how) for h in holds] == [
        ("a", T0, T0 + timedelta(seconds=40), None),  # never let go: it ends at its expiry
        ("b", T0 + timedelta(seconds=40), T0 + timedelta(seconds=50), "released"),
        ("a", T0 + timedelta(seconds=51), T0 + timedelta(seconds=81), None),
    ]
    assert all(x.end <= y.taken_at for x, y in zip(holds, holds[1:]))


def test_a_lease_race_has_one_winner(store):
    """Eight daemons reach for the same free lease at once: exactly one gets it."""
    stores = [other(store) for _ in range(8)]
    won: list[str] = []
    start = threading.Barrier(len(stores))

    def reach(i: int, s: Store) -> None:
        start.wait()
        if s.take_lease("freshdesk", f"d{i}", T0, 30):
            won.append(f"d{i}")

    threads = [threading.Thread(target=reach, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert len(won) == 1 and [lease.holder for lease in store.leases()] == won


def test_daemons_register_beat_and_show_what_they_hold(store):
    store.register_daemon("a", "host-a", 11, "1.0", T0, 5.0)
    store.register_daemon("b", "host-b", 22, "1.0", T0, 5.0)
    store.take_lease("zendesk", "a", T0, 30)
    store.take_lease("freshdesk", "a", T0, 30)
    store.take_lease("salesforce", "b", T0, 30)
    assert store.daemon_beat("a", 11, T0 + timedelta(seconds=20))
    later = T0 + timedelta(seconds=20)
    rows = {d.id: d for d in store.daemons(later)}
    assert rows["a"].alive and rows["a"].sources == ("freshdesk", "zendesk")
    assert not rows["b"].alive  # no beat for 20 s, three intervals of 5 s
    assert store.alive_daemons(later) == 1
    store.daemon_stopped("a", 11, later)
    assert store.alive_daemons(later) == 0
    st = store.status(later)
    assert {d.id for d in st.daemons} == {"a", "b"}


def test_a_second_daemon_with_the_same_id_is_refused_while_the_first_lives(store):
    store.register_daemon("dw1", "host-a", 11, "1.0", T0, 5.0)
    with pytest.raises(DaemonIdInUse, match=r"daemon id 'dw1' is in use .*host-a.*\[daemon\] id"):
        store.register_daemon("dw1", "host-b", 22, "1.0", T0 + timedelta(seconds=1), 5.0)
    # Once its heartbeat is stale (it died), the id can be taken over.
    store.register_daemon("dw1", "host-b", 22, "1.0", T0 + timedelta(seconds=16), 5.0)
    assert not store.daemon_beat("dw1", 11, T0 + timedelta(seconds=17))  # the old process is told it lost the id
    assert store.daemon_beat("dw1", 22, T0 + timedelta(seconds=17))


def _enqueue(store: Store, n: int, source: str = "zendesk") -> None:
    for i in range(n):
        store.enqueue(TicketUpdate(ticket_id=f"{source}:{i}", source=source, idempotency_key=f"k{i:04d}", escalated=True), T0)


def test_two_daemons_draining_at_once_never_get_the_same_item(store):
    _enqueue(store, 120)
    got: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def drain(name: str) -> None:
        s = other(store)
        start.wait()
        try:
            while items := s.claim("zendesk", 5, T0, holder=name):
                got[name].extend(i.key for i in items)
        finally:
            s.close()

    threads = [threading.Thread(target=drain, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(got["a"]) & set(got["b"])
    assert sorted(got["a"] + got["b"]) == [f"k{i:04d}" for i in range(120)]


def test_a_crashed_claimers_items_are_claimable_after_its_claim_expires(store):
    _enqueue(store, 2)
    assert len(store.claim("zendesk", 10, T0, lease=60, holder="a")) == 2  # then "a" dies
    assert store.claim("zendesk", 10, T0 + timedelta(seconds=59), holder="b") == []
    again = store.claim("zendesk", 10, T0 + timedelta(seconds=60), holder="b")
    assert [i.attempts for i in again] == [2, 2]


def test_a_restarting_daemon_requeues_only_its_own_items(store):
    _enqueue(store, 3)
    store.claim("zendesk", 1, T0, holder="a")
    store.claim("zendesk", 1, T0, holder="b")
    assert store.requeue_sending(holder="a") == 1  # b's item is in flight: left alone
    assert [i.key for i in store.claim("zendesk", 10, T0, holder="a")] == ["k0000", "k0002"]


def test_notifications_are_claimed_once_and_an_expired_claim_is_not_sent_again(store):
    for i in range(2):
        store.enqueue_notification(f"n{i}", f"zendesk:{i}", "page", "eng[0]", "t", "b", T0, T0)
    first = store.claim_notification(T0, holder="a", lease=60)
    with other(store) as b:
        second = b.claim_notification(T0, holder="b", lease=60)
    assert first.key != second.key
    assert store.claim_notification(T0, holder="b") is None
    assert store.settle_interrupted_notifications("b") == 1  # b restarts: only its own row
    assert store.notification(first.key).state == "sending"
    # a died mid-send: past its claim the row may have reached people, so it is never re-sent.
    assert store.claim_notification(T0 + timedelta(seconds=61), holder="b") is None
    assert store.notification(first.key).state == "unknown"


def test_a_chain_step_fires_once_across_the_fleet(store):
    store.start_escalation("zendesk:1", T0)
    b = other(store)
    step = "default:1@2026-03-02T09:00:00Z"
    assert store.claim_timer("zendesk:1", step, "a", T0)
    assert not b.claim_timer("zendesk:1", step, "b", T0)  # a is firing it
    store.timer_done("zendesk:1", step, "a")
    assert not b.claim_timer("zendesk:1", step, "b", T0 + timedelta(hours=1))  # fired: never again
    nxt = "default:2@2026-03-02T09:00:00Z"
    assert b.claim_timer("zendesk:1", nxt, "b", T0)
    # b dies before firing: the step is claimable again once its claim runs out, and not before.
    assert not store.claim_timer("zendesk:1", nxt, "a", T0 + timedelta(seconds=59))
    assert store.claim_timer("zendesk:1", nxt, "a", T0 + timedelta(seconds=60))
    store.timer_done("zendesk:1", None, "a")  # firing failed: claimable again at once
    assert b.claim_timer("zendesk:1", nxt, "b", T0 + timedelta(seconds=61))
    b.close()


def test_daemons_gone_for_a_week_are_forgotten(store):
    store.register_daemon("old", "h1", 1, "1.0", T0, 5.0)
    store.register_daemon("new", "h2", 2, "1.0", T0 + timedelta(days=8), 5.0)
    assert [d.id for d in store.daemons(T0 + timedelta(days=8))] == ["new"]
