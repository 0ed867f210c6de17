"""A person's override or escalation by hand holds over later engine decisions until something
new comes up (core/policy/holds.py), so the daemon does not re-page or re-route what a person settled."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from deskwatch.core import config

from deskwatch.core.policy import holds
from deskwatch.core.daemon import operations as ops
from deskwatch.core.model import AuditRecord, Message, Signal
from deskwatch.core.daemon.pipeline import Decider
from deskwatch.core.store import Store

from .conftest import NOW
from .store.factory import decision, ticket

CFG = config.load(None)
ANGRY = "The export has been broken for three days and none of our 40 users can work. This is unacceptable!!"
BREACH = "We found a data breach: strangers can open our share links."


def customer_writes(store: Store, tid: str, body: str, at) -> None:
    t = store.get_ticket(tid)
    msg = Message("customer", at, body, True, "cust-1")
    store.save_page("zendesk", [replace(t, messages=(*t.messages, msg), updated_at=at)], (), None, now=at)


@pytest.fixture
def decided(tmp_path):
    store = Store(tmp_path / "d.db")
    store.save_page("zendesk", [ticket("zendesk:7", body=ANGRY, created=NOW - timedelta(hours=30))], (), None, now=NOW)
    decider = Decider(CFG, store)
    first = decider.decide("zendesk:7", NOW, write_back=True)
    assert first.recommendation == "priority" and store.ack_state("zendesk:7").started_at == NOW
    return store, decider


def outbox(store: Store) -> list:
    return [i.update for i in store.outbox_for("zendesk:7")]


def test_an_override_down_holds_when_the_customer_writes_again(decided):
    store, decider = decided
    ops.override(store, "zendesk:7", "none", "Known load-test account", "dana", NOW + timedelta(minutes=2), write_back=True)
    assert store.ack_state("zendesk:7").started_at is None  # standing down stops the paging
    sent = outbox(store)

    customer_writes(store, "zendesk:7", "Thanks, that works now.", NOW + timedelta(minutes=10))
    d = decider.decide("zendesk:7", NOW + timedelta(minutes=11), write_back=True)

    assert d.recommendation == "none" and not d.needs_review
    assert d.reasons[0].startswith("held: dana's override (none) stands: Known load-test account; the engine alone says priority")
    assert outbox(store) == sent  # nothing re-escalated in the helpdesk
    assert store.ack_state("zendesk:7").started_at is None  # nobody paged again
    assert store.queue()[0].recommendation == "none"


def test_a_new_hard_trigger_ends_the_override(decided):
    store, decider = decided
    ops.override(store, "zendesk:7", "none", "Known load-test account", "dana", NOW + timedelta(minutes=2), write_back=True)
    sent = outbox(store)

    customer_writes(store, "zendesk:7", BREACH, NOW + timedelta(minutes=20))
    d = decider.decide("zendesk:7", NOW + timedelta(minutes=21), write_back=True)

    assert d.recommendation == "immediate" and not d.reasons[0].startswith("held:")
    ended = store.latest_of("zendesk:7", (holds.HOLD_ENDED,))
    assert (ended.actor, ended.data["actor"], ended.data["why"]) == ("deskwatch", "dana", "a new hard trigger fired: security")
    assert len(outbox(store)) == len(sent) + 2  # escalation fields and the handoff note
    # Once ended, the override stays ended: the next decision is the engine's alone.
    customer_writes(store, "zendesk:7", "Thanks, that works now.", NOW + timedelta(minutes=30))
    assert decider.decide("zendesk:7", NOW + timedelta(minutes=31), write_back=True).recommendation == "immediate"


def test_an_escalation_by_hand_keeps_its_team_and_agent(decided):
    store, decider = decided
    ops.escalate(store, "zendesk:7", tier="tier3", team="Engineering", agent=None, actor="dana",
                 reason="Export bug needs a developer", now=NOW + timedelta(minutes=2), write_back=True)
    sent = outbox(store)

    customer_writes(store, "zendesk:7", "Any update? This is still broken.", NOW + timedelta(minutes=40))
    d = decider.decide("zendesk:7", NOW + timedelta(minutes=41), write_back=True)

    assert (d.recommendation, d.tier, d.team) == ("priority", "tier3", "Engineering")
    assert d.route.reason == "escalated by dana: Export bug needs a developer"
    assert outbox(store) == sent  # the engine's Billing route is not written back over the person's


def test_closing_the_ticket_ends_the_hold(decided):
    store, decider = decided
    ops.override(store, "zendesk:7", "immediate", "VIP customer", "dana", NOW + timedelta(minutes=2))
    t = store.get_ticket("zendesk:7")
    store.save_page("zendesk", [replace(t, status="solved", updated_at=NOW + timedelta(hours=1))], (), None, now=NOW + timedelta(hours=1))
    d = decider.decide("zendesk:7", NOW + timedelta(hours=1), write_back=True)
    assert d.recommendation != "immediate"
    assert store.latest_of("zendesk:7", (holds.HOLD_ENDED,)).data["why"] == "the ticket is solved"


# -- the rules, as pure functions -----------------------------------------------------------

HOLD = holds.Hold("override", "dana", NOW, "false alarm", recommendation="none", overruled="priority")


def with_signals(rec: str, *signals: Signal):
    return replace(decision("zendesk:7", recommendation=rec), signals=signals)


@pytest.mark.parametrize(
    "rec, signals, why",
    [
        ("priority", (), None),  # what the person already overruled
        ("monitor", (), None),
        ("immediate", (), "the engine now recommends immediate"),
        ("priority", (Signal("trigger:legal", 1, 30, 30, ("lawyer",), "legal", category="legal", hard=True),),
         "a new hard trigger fired: legal"),
    ],
)
def test_what_ends_a_hold(rec, signals, why):
    assert holds.ended_by(HOLD, with_signals(rec, *signals), "open") == why


def test_a_hard_trigger_the_person_already_saw_does_not_end_it():
    seen = replace(HOLD, hard=("legal",))
    legal = Signal("trigger:legal", 1, 30, 30, ("lawyer",), "legal", category="legal", hard=True)
    assert holds.ended_by(seen, with_signals("immediate", legal), "open") == "the engine now recommends immediate"
    assert holds.ended_by(replace(seen, overruled="immediate"), with_signals("immediate", legal), "open") is None


def test_an_override_up_ends_only_above_what_the_person_chose():
    up = replace(HOLD, recommendation="priority", overruled="monitor")
    assert holds.ended_by(up, with_signals("priority"), "open") is None
    assert holds.ended_by(up, with_signals("immediate"), "open") == "the engine now recommends immediate"


def test_records_from_before_holds_existed_still_read():
    old = AuditRecord("zendesk:7", "override", "bo", NOW, {"from": "monitor", "to": "immediate", "reason": "VIP"})
    assert holds.from_audit(old) == holds.Hold("override", "bo", NOW, "VIP", "immediate", "monitor")
    route_only = AuditRecord("zendesk:7", "override", "bo", NOW, {"previous": None, "new": {}, "reason": "x"})
    assert holds.from_audit(route_only) is None
    assert holds.from_audit(AuditRecord("zendesk:7", holds.HOLD_ENDED, "deskwatch", NOW, {})) is None


def test_an_override_after_an_escalation_by_hand_keeps_its_team_and_agent(decided):
    """docs/tui.md: `o` after `e` changes the recommendation, not where the person sent it."""
    store, decider = decided
    ops.escalate(store, "zendesk:7", tier="tier3", team="Engineering", agent="Farah", actor="dana",
                 reason="export bug, needs a code fix", now=NOW + timedelta(minutes=1))
    ops.override(store, "zendesk:7", "monitor", "workaround given, watch it", "dana", NOW + timedelta(minutes=2))
    customer_writes(store, "zendesk:7", "Thanks, the workaround helps for now.", NOW + timedelta(minutes=30))
    d = decider.decide("zendesk:7", NOW + timedelta(minutes=30), write_back=True)
    assert (d.recommendation, d.tier, d.team, d.route.agent) == ("monitor", "tier3", "Engineering", "Farah")
    assert "staying with tier3 / Engineering / Farah" in d.reasons[0]


def test_an_override_of_an_engine_decision_carries_no_route():
    assert holds.route_data(None) == {}
    rec = AuditRecord("zendesk:7", "override", "dana", NOW, {"from": "priority", "to": "none", "reason": "spam", "hard": []})
    hold = holds.from_audit(rec)
    assert (hold.tier, hold.team, hold.agent) == (None, None, None) and holds.route_data(hold) == {}
    d = decision("zendesk:7", team="Technical", tier="tier2")
    assert holds.held(d, hold).team == "Technical"  # the engine's route stays
