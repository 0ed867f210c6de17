from __future__ import annotations

from dataclasses import replace

from deskwatch.core.policy.actions import newly_escalates, plan_updates

from .factory import decision, ticket


def test_new_escalation_plans_fields_and_a_handoff_note():
    t = ticket(priority="normal", group="Support", tags=("vip",))
    d = decision(recommendation="immediate", tier="tier2", team="billing", agent="ana")
    fields, note = plan_updates(t, d, None, write_back=True)
    assert (fields.priority, fields.group, fields.assignee, fields.escalated) == ("urgent", "billing", "ana", True)
    assert fields.tags_add == ("deskwatch-escalated", "deskwatch-tier2")
    assert fields.source == "zendesk" and fields.ticket_id == t.id
    assert "immediate" in note.private_note and "Double charge on an enterprise account" in note.private_note
    assert "tier2 / billing -> ana" in note.private_note
    assert fields.idempotency_key != note.idempotency_key and len(fields.idempotency_key) == 32


def test_nothing_planned_when_nothing_changed_or_write_back_off():
    t = ticket()
    d = decision(recommendation="priority")
    assert plan_updates(t, d, None, write_back=False) == []
    assert plan_updates(t, replace(d, score=75.0), d, write_back=True) == []  # same escalation, new score
    assert plan_updates(t, decision(recommendation="monitor"), None, write_back=True) == []
    assert plan_updates(t, decision(recommendation="none"), d, write_back=True) == []  # no de-escalation writes


def test_reroute_or_stronger_recommendation_escalates_again():
    prev = decision(recommendation="priority", tier="tier1", team="support")
    assert newly_escalates(decision(recommendation="priority", tier="tier2", team="support"), prev)
    assert newly_escalates(decision(recommendation="priority", tier="tier1", team="billing"), prev)
    assert newly_escalates(decision(recommendation="priority", tier="tier1", team="support", agent="ana"), prev)
    assert newly_escalates(decision(recommendation="immediate", tier="tier1", team="support"), prev)
    assert not newly_escalates(decision(recommendation="priority", tier="tier1", team="support"), prev)
    t = ticket(tags=("deskwatch-escalated", "deskwatch-tier1"))
    fields, _ = plan_updates(t, decision(recommendation="priority", tier="tier2", team="support"), prev, write_back=True)
    assert fields.tags_add == ("deskwatch-tier2",) and fields.tags_remove == ("deskwatch-tier1",)


def test_same_intent_same_key_and_fields_already_set_are_not_sent():
    t = ticket(priority="urgent", group="billing", assignee="ana")
    d = decision(recommendation="immediate", team="billing", agent="ana")
    a = plan_updates(t, d, None, write_back=True)
    b = plan_updates(ticket(priority="low"), replace(d, score=99.0, decided_at=d.decided_at.replace(hour=12)), None, write_back=True)
    assert [u.idempotency_key for u in a] == [u.idempotency_key for u in b]
    assert (a[0].priority, a[0].group, a[0].assignee) == (None, None, None)
    assert b[0].priority == "urgent"
    other = plan_updates(t, replace(d, tier="tier3"), None, write_back=True)
    assert other[0].idempotency_key != a[0].idempotency_key
    assert plan_updates(ticket("zendesk:2"), d, None, True)[0].idempotency_key != a[0].idempotency_key
