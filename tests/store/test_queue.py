from __future__ import annotations

from datetime import timedelta

from deskwatch.core.store import QueueFilter

from ..conftest import NOW
from .factory import decision, ticket


def _fill(store):
    store.save_page("zendesk", [
        ticket("zendesk:1", subject="Invoice question", email="a@alpha.example", org="Alpha", channel="email"),
        ticket("zendesk:2", subject="Production API down for all users", email="b@beta.example", org="Beta Bank", channel="phone"),
        ticket("zendesk:3", subject="GDPR data deletion request", email="c@gamma.example", org="Gamma", assignee="ana"),
        ticket("zendesk:4", subject="How do I change my avatar?", email="d@delta.example", org="Delta", channel="chat"),
        ticket("zendesk:5", subject="Old resolved thing", email="e@eps.example", org="Eps", status="solved"),
    ], (), None)
    store.save_page("freshdesk", [
        ticket("freshdesk:10", subject="Outage: dashboards not loading", email="f@phi.example", name="Fiona Reyes", org="Phi Health", channel="web"),
        ticket("freshdesk:11", subject="Refund not received", email="g@chi.example", org="Chi", channel="email"),
    ], (), None)
    store.record_decision(decision("zendesk:1", score=30, recommendation="monitor", tier="tier1", team="billing"))
    store.record_decision(decision("zendesk:2", score=95, recommendation="immediate", tier="tier3", team="platform", due=NOW + timedelta(minutes=30), sla_state="warning"))
    store.record_decision(decision("freshdesk:10", score=95, recommendation="immediate", tier="tier3", team="platform", due=NOW + timedelta(minutes=10), sla_state="breached"))
    store.record_decision(decision("zendesk:3", score=70, recommendation="priority", tier="tier2", team="legal", needs_review=True, confidence=0.4))
    store.record_decision(decision("freshdesk:11", score=78, recommendation="priority", tier="tier2", team="billing"))
    store.record_decision(decision("zendesk:5", score=99, recommendation="immediate", tier="tier3", team="platform"))
    # zendesk:4 has no decision yet


def ids(rows):
    return [r.ticket_id for r in rows]


def test_most_urgent_first_and_closed_left_out(store):
    _fill(store)
    rows = store.queue()
    # immediate before priority before monitor before undecided; equal scores: SLA due soonest first.
    assert ids(rows) == ["freshdesk:10", "zendesk:2", "freshdesk:11", "zendesk:3", "zendesk:1", "zendesk:4"]
    top = rows[0]
    assert (top.source, top.channel, top.customer_name, top.organization, top.team, top.sla_state) == (
        "freshdesk", "web", "Fiona Reyes", "Phi Health", "platform", "breached")
    assert top.sla_due_at == NOW + timedelta(minutes=10) and top.annual_value == 48000.0 and top.recommendation == "immediate"
    assert rows[-1].recommendation is None and rows[-1].team == "Billing"  # undecided: the helpdesk group
    assert "zendesk:5" in ids(store.queue(QueueFilter(include_closed=True)))
    assert ids(store.queue(limit=2, offset=1)) == ["zendesk:2", "freshdesk:11"]
    assert store.queue_count() == 6


def test_filters(store):
    _fill(store)
    assert ids(store.queue(QueueFilter(source="freshdesk"))) == ["freshdesk:10", "freshdesk:11"]
    assert ids(store.queue(QueueFilter(channel="chat"))) == ["zendesk:4"]
    assert ids(store.queue(QueueFilter(tier="tier3"))) == ["freshdesk:10", "zendesk:2"]
    # case-insensitive: the undecided zendesk:4 is in helpdesk group "Billing"
    assert ids(store.queue(QueueFilter(team="billing"))) == ["freshdesk:11", "zendesk:1", "zendesk:4"]
    assert ids(store.queue(QueueFilter(team="BILLING"))) == ids(store.queue(QueueFilter(team="billing")))
    assert ids(store.queue(QueueFilter(sla_state="breached"))) == ["freshdesk:10"]
    assert ids(store.queue(QueueFilter(needs_review=True))) == ["zendesk:3"]
    assert ids(store.queue(QueueFilter(assignee="ana"))) == ["zendesk:3"]
    assert ids(store.queue(QueueFilter(text="outage"))) == ["freshdesk:10"]
    assert ids(store.queue(QueueFilter(text="beta bank"))) == ["zendesk:2"]  # organization
    assert ids(store.queue(QueueFilter(text="fiona"))) == ["freshdesk:10"]  # customer name
    assert ids(store.queue(QueueFilter(text="100%"))) == []  # LIKE wildcards are literal
    assert ids(store.queue(QueueFilter(source="zendesk", tier="tier2", needs_review=True))) == ["zendesk:3"]


def test_queue_changes_returns_only_what_changed(store, now):
    _fill(store)
    v = store.current_version()
    assert store.queue_changes(v) == []
    store.record_decision(decision("zendesk:4", score=60, recommendation="priority", tier="tier1", team="support"))
    store.save_page("zendesk", [ticket("zendesk:1", status="solved", updated=NOW)], (), None)
    store.set_acknowledged("zendesk:2", "ana", now)
    changes = store.queue_changes(v, now=now)
    assert sorted(ids(changes)) == ["zendesk:1", "zendesk:2", "zendesk:4"]
    by = {r.ticket_id: r for r in changes}
    assert by["zendesk:1"].open is False and by["zendesk:1"].status == "solved"
    assert by["zendesk:2"].acknowledged and by["zendesk:4"].recommendation == "priority"
    assert max(r.version for r in changes) == store.current_version()
    assert store.queue_changes(store.current_version()) == []


def test_ack_and_snooze_show_in_the_queue(store, now):
    _fill(store)
    store.set_acknowledged("zendesk:2", "ana", now, expires_at=now + timedelta(minutes=30))
    store.set_snoozed("zendesk:3", now + timedelta(hours=2), "bo")
    rows = {r.ticket_id: r for r in store.queue(now=now)}
    assert rows["zendesk:2"].acknowledged and rows["zendesk:3"].snoozed_until == now + timedelta(hours=2)
    later = {r.ticket_id: r for r in store.queue(now=now + timedelta(hours=1))}
    assert not later["zendesk:2"].acknowledged  # the acknowledgment lapsed


def test_queue_first_page_reads_the_index_in_order(sqlite_store):  # SQLite's planner; bench/store.py times PostgreSQL
    store = sqlite_store
    plan = store._q("EXPLAIN QUERY PLAN SELECT id FROM tickets t WHERE t.deleted = 0 AND t.is_open = 1 "
                    "ORDER BY t.rec_rank DESC, t.score DESC, t.sla_due_sort, t.id LIMIT 100")
    text = " ".join(r["detail"] for r in plan)
    assert "tickets_queue" in text and "TEMP B-TREE" not in text  # no sort: the first rows come straight off the index


def test_ticket_detail(store, now):
    _fill(store)
    d = store.ticket_detail("zendesk:2")
    assert d.ticket.subject == "Production API down for all users"
    assert d.latest.recommendation == "immediate" and len(d.decisions) == 1
    assert [a.kind for a in d.audit] == ["decision"] and d.outbox == () and d.ack is None
    assert store.ticket_detail("zendesk:404") is None


def test_rows_carry_hold_and_attention_on_both_stores(store, now):
    from dataclasses import replace as _replace

    from deskwatch.core.model import AuditRecord, Management

    store.save_page("zendesk", [ticket("zendesk:1"), ticket("zendesk:2", email="b@x.example"), ticket("zendesk:3", email="c@x.example")])
    store.record_decision(_replace(decision("zendesk:1", score=90, recommendation="immediate"), page=True, page_reason="money"))
    store.record_decision(_replace(decision("zendesk:2", score=60), management=Management(("legal threat",))))
    store.record_decision(decision("zendesk:3", score=30, recommendation="monitor"))
    store.append_audit(AuditRecord("zendesk:2", "override", "ana", now, {}))
    store.append_audit(AuditRecord("zendesk:3", "escalate", "ana", now, {}))
    store.append_audit(AuditRecord("zendesk:3", "hold_ended", "deskwatch", now, {}))
    rows = {r.ticket_id: r for r in store.queue(now=now)}
    assert (rows["zendesk:1"].attention, rows["zendesk:1"].hold) == ("page", None)
    assert (rows["zendesk:2"].attention, rows["zendesk:2"].hold) == ("management", "override")
    assert (rows["zendesk:3"].attention, rows["zendesk:3"].hold) == (None, None)
    changed = {r.ticket_id: r for r in store.queue_changes(0, now=now)}
    assert changed["zendesk:2"].hold == "override" and changed["zendesk:1"].attention == "page"
