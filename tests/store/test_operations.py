from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.daemon import operations as ops
from deskwatch.core.daemon.operations import OperationError
from deskwatch.core.store import QueueFilter

from ..conftest import NOW
from .factory import decision, ticket


@pytest.fixture
def filled(store):
    store.save_page("zendesk", [ticket("zendesk:1", priority="normal", group="Support")], (), None)
    store.record_decision(decision("zendesk:1", score=64, recommendation="monitor", tier="tier1", team="support", needs_review=True, confidence=0.45))
    return store


def kinds(store, tid="zendesk:1"):
    return [(a.kind, a.actor) for a in store.audit_for(tid)]


def test_acknowledge_stops_the_chain_and_notes_the_helpdesk(filled, now):
    filled.start_escalation("zendesk:1", now - timedelta(minutes=5))
    sent = ops.acknowledge(filled, "zendesk:1", "ana", now, write_back=True)
    assert [u.private_note for u in sent] == ["Acknowledged in deskwatch by ana."]
    assert filled.ack_state("zendesk:1").acknowledged_by == "ana"
    assert filled.active_escalations(now) == []
    assert kinds(filled)[-1] == ("acknowledge", "ana")
    assert [i.update for i in filled.outbox_for("zendesk:1")] == sent


def test_shadow_mode_records_but_sends_nothing(filled, now):
    assert ops.acknowledge(filled, "zendesk:1", "ana", now) == []
    assert ops.add_note(filled, "zendesk:1", "Customer called, refund promised by Friday", "ana", now) == []
    assert filled.outbox_for("zendesk:1") == [] and filled.outbox_depth() == 0
    assert kinds(filled)[-2:] == [("acknowledge", "ana"), ("note", "ana")]
    assert filled.audit_for("zendesk:1")[-1].data == {"text": "Customer called, refund promised by Friday"}


def test_escalate_records_a_manual_decision_and_queues_the_handoff(filled, now):
    sent = ops.escalate(filled, "zendesk:1", tier="tier2", team="billing", agent="carla", actor="ana",
                        reason="Enterprise renewal at risk", now=now, write_back=True)
    fields, note = sent
    assert (fields.group, fields.assignee, fields.priority, fields.escalated) == ("billing", "carla", "high", True)
    assert "deskwatch-tier2" in fields.tags_add and "Escalated by ana: Enterprise renewal at risk" in note.private_note
    latest = filled.latest_decision("zendesk:1")
    assert (latest.recommendation, latest.tier, latest.team, latest.route.agent) == ("priority", "tier2", "billing", "carla")
    assert filled.latest_decision_actor("zendesk:1") == "ana"
    assert filled.ack_state("zendesk:1").started_at == now
    assert kinds(filled)[-2:] == [("decision", "ana"), ("escalate", "ana")]
    row = filled.queue()[0]
    assert (row.recommendation, row.tier, row.team) == ("priority", "tier2", "billing")


def test_escalate_checks_team_and_agent_against_the_routing_config(filled, now):
    from deskwatch.core import config

    routing = config.load(None).routing
    with pytest.raises(OperationError, match="unknown team 'Enginering'; did you mean 'Engineering'"):
        ops.escalate(filled, "zendesk:1", team="Enginering", actor="ana", reason="bug", now=now, routing_config=routing)
    with pytest.raises(OperationError, match="unknown agent 'Zed'; known agents: Ana, Ben"):
        ops.escalate(filled, "zendesk:1", agent="Zed", actor="ana", reason="bug", now=now, routing_config=routing)
    assert kinds(filled) == [("decision", "deskwatch")]  # nothing recorded
    ops.escalate(filled, "zendesk:1", team="Engineering", agent="Farah", actor="ana", reason="bug", now=now, routing_config=routing)
    assert filled.latest_decision("zendesk:1").route.agent == "Farah"


def test_override_and_review(filled, now):
    ops.override(filled, "zendesk:1", "immediate", "Outage confirmed by status page", "bo", now, write_back=True)
    assert filled.latest_decision("zendesk:1").recommendation == "immediate"
    assert filled.audit_for("zendesk:1")[-1].data == {
        "from": "monitor", "to": "immediate", "reason": "Outage confirmed by status page", "hard": [],
    }
    items = filled.outbox_for("zendesk:1")
    assert items[0].update.escalated is True and "monitor -> immediate" in items[1].update.private_note
    # Review takes the ticket off the review list and records the feedback.
    filled.record_decision(decision("zendesk:1", needs_review=True, confidence=0.4))
    assert [r.ticket_id for r in filled.queue(QueueFilter(needs_review=True))] == ["zendesk:1"]
    assert ops.review(filled, "zendesk:1", False, "ana", now, comment="Not urgent, a how-to question") == []
    fb = filled.audit_for("zendesk:1")[-1]
    assert fb.kind == "feedback" and fb.data["accept"] is False and fb.data["comment"] == "Not urgent, a how-to question"
    assert filled.queue()[0].needs_review is False


def test_change_priority_and_snooze(filled, now):
    [u] = ops.change_priority(filled, "zendesk:1", "urgent", actor="ana", now=now, reason="CEO escalation", write_back=True)
    assert u.priority == "urgent" and filled.audit_for("zendesk:1")[-1].data == {"from": "normal", "to": "urgent", "reason": "CEO escalation"}
    assert ops.snooze(filled, "zendesk:1", now + timedelta(hours=2), "ana", now) == []
    assert filled.ack_state("zendesk:1").snoozed_until == now + timedelta(hours=2)
    assert kinds(filled)[-2:] == [("priority", "ana"), ("snooze", "ana")]


def test_the_same_action_retried_is_queued_once_but_a_new_one_is_not_deduped(filled, now):
    assert len(ops.add_note(filled, "zendesk:1", "Called back", "ana", now, write_back=True)) == 1
    assert ops.add_note(filled, "zendesk:1", "Called back", "ana", now, write_back=True) == []
    assert len(ops.add_note(filled, "zendesk:1", "Called back", "ana", now + timedelta(minutes=1), write_back=True)) == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: ops.acknowledge(s, "zendesk:404", "ana", NOW), "unknown ticket 'zendesk:404'"),
        (lambda s: ops.acknowledge(s, "zendesk:1", " ", NOW), "no actor"),
        (lambda s: ops.escalate(s, "zendesk:1", tier="tier2", actor="ana", reason="  ", now=NOW), "reason is empty"),
        (lambda s: ops.escalate(s, "zendesk:1", actor="ana", reason="because", now=NOW), "needs a tier, a team or an agent"),
        (lambda s: ops.escalate(s, "zendesk:1", tier="tier9", actor="ana", reason="because", now=NOW), "unknown tier 'tier9'"),
        (lambda s: ops.change_priority(s, "zendesk:1", "critical", actor="ana", now=NOW), "unknown priority 'critical'"),
        (lambda s: ops.snooze(s, "zendesk:1", NOW - timedelta(minutes=1), "ana", NOW), "in the past"),
        (lambda s: ops.override(s, "zendesk:1", "asap", "x", "ana", NOW), "unknown recommendation 'asap'"),
        (lambda s: ops.override(s, "zendesk:1", "none", "", "ana", NOW), "override reason is empty"),
        (lambda s: ops.add_note(s, "zendesk:1", "   ", "ana", NOW), "the note is empty"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_recorded(filled, call, message):
    before = len(filled.audit_for("zendesk:1"))
    with pytest.raises(OperationError, match=message.replace("(", r"\(")):
        call(filled)
    assert len(filled.audit_for("zendesk:1")) == before and filled.outbox_depth() == 0


def test_review_needs_a_decision(store, now):
    store.save_page("zendesk", [ticket("zendesk:9")], (), None)
    with pytest.raises(OperationError, match="no decision to review"):
        ops.review(store, "zendesk:9", True, "ana", now)
