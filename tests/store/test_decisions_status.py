from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from deskwatch.core.store import Store

from ..conftest import NOW
from .factory import decision, ticket


def test_decision_history_and_latest(store):
    store.save_page("zendesk", [ticket()], (), None)
    assert store.latest_decision("zendesk:1001") is None
    d1 = decision(score=55, recommendation="monitor", tier="tier1", at=NOW)
    d2 = decision(score=81, recommendation="immediate", tier="tier2", agent="ana", at=NOW + timedelta(minutes=10))
    d2 = replace(d2, tones=(0.1, -0.45))  # kept, so the console can draw them
    store.record_decision(d1)
    store.record_decision(d2)
    assert store.latest_decision("zendesk:1001") == d2
    assert store.decisions_for("zendesk:1001") == [d1, d2]
    assert store.latest_decision_actor("zendesk:1001") == "deskwatch"
    kinds = [(a.kind, a.actor, a.data["recommendation"]) for a in store.audit_for("zendesk:1001")]
    assert kinds == [("decision", "deskwatch", "monitor"), ("decision", "deskwatch", "immediate")]


def test_escalation_timers_survive_a_restart(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        s.save_page("zendesk", [ticket("zendesk:1"), ticket("zendesk:2"), ticket("zendesk:3")], (), None)
        s.start_escalation("zendesk:1", NOW)
        s.start_escalation("zendesk:1", NOW + timedelta(minutes=5))  # already running: keeps its start
        s.start_escalation("zendesk:2", NOW + timedelta(minutes=1))
        s.start_escalation("zendesk:3", NOW + timedelta(minutes=2))
        s.set_acknowledged("zendesk:2", "ana", NOW + timedelta(minutes=3), expires_at=NOW + timedelta(minutes=33))
        s.set_snoozed("zendesk:3", NOW + timedelta(hours=1), "bo")
    with Store(path) as s:
        st = s.ack_state("zendesk:1")
        assert st.started_at == NOW and not st.acknowledged(NOW)
        ack = s.ack_state("zendesk:2")
        assert ack.acknowledged_by == "ana" and ack.acknowledged(NOW + timedelta(minutes=10))
        assert not ack.acknowledged(NOW + timedelta(minutes=40))  # the acknowledgment lapsed
        assert [a.ticket_id for a in s.active_escalations(NOW + timedelta(minutes=10))] == ["zendesk:1"]
        later = NOW + timedelta(minutes=61)
        assert [a.ticket_id for a in s.active_escalations(later)] == ["zendesk:1", "zendesk:2", "zendesk:3"]
        s.reset_escalation("zendesk:1")
        assert s.ack_state("zendesk:1").started_at is None
        assert s.ack_state("zendesk:404") is None


def test_status_reports_sources_outbox_and_daemon_liveness(store, now):
    store.save_page("zendesk", [ticket("zendesk:1")], (), None, now=now - timedelta(minutes=2))
    store.record_sync_error("freshdesk", "503 Service Unavailable from acme.freshdesk.com", now - timedelta(minutes=1))
    store.record_rate_limit("zendesk", {"limit": 700, "remaining": 412}, now)
    from deskwatch.core.model import TicketUpdate

    store.enqueue(TicketUpdate("zendesk:1", "zendesk", "k1", priority="urgent"), now)
    store.heartbeat(4242, now - timedelta(seconds=10), interval=5.0)
    st = store.status(now)
    by = {s.name: s for s in st.sources}
    assert by["zendesk"].lag_seconds == 120 and by["zendesk"].rate_limit == {"limit": 700, "remaining": 412}
    assert by["zendesk"].outbox_depth == 1 and by["zendesk"].open_tickets == 1
    assert by["freshdesk"].last_error.startswith("503") and by["freshdesk"].last_success_at is None
    assert by["zendesk"].healthy and not by["freshdesk"].healthy
    store.record_sync_ok("freshdesk", now)
    assert {s.name: s for s in store.status(now).sources}["freshdesk"].healthy
    assert st.outbox_depth == 1
    assert st.daemon.pid == 4242 and st.daemon.alive  # 10 s old, interval 5 s: within 3 beats
    assert not store.status(now + timedelta(seconds=10)).daemon.alive  # 20 s old: presumed dead


def test_no_heartbeat_means_no_daemon(store, now):
    st = store.status(now)
    assert st.sources == () and not st.daemon.alive and st.daemon.pid is None
