"""Deciding stored tickets: escalation chains live in the store, advance with time, survive a
restart, and stop when someone acknowledges (in the console or by answering in the helpdesk)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from deskwatch.core import config
from deskwatch.core.model import Message
from deskwatch.core.daemon.pipeline import Decider
from deskwatch.core.store import Store

from .conftest import NOW
from .store.factory import ticket

CFG = config.load(None)
GDPR = "Under the GDPR I request the deletion of all personal data you hold about me."


def escalated(tmp_path):
    store = Store(tmp_path / "d.db")
    t = ticket("zendesk:7", body=GDPR, created=NOW - timedelta(minutes=5))
    store.save_page("zendesk", [t], (), {"cursor": "x"}, now=NOW)
    d = Decider(CFG, store).decide("zendesk:7", NOW, write_back=True)
    return store, t, d


def test_an_escalating_decision_starts_its_chain_at_step_0(tmp_path):
    store, _, d = escalated(tmp_path)
    assert d.recommendation == "immediate" and d.route.chain_step == 0
    assert store.ack_state("zendesk:7").started_at == NOW
    assert store.outbox_depth("zendesk") == 2  # field update + handoff note


def test_chain_advances_when_nobody_acknowledges_even_after_a_restart(tmp_path):
    store, _, _ = escalated(tmp_path)
    fresh = Decider(CFG, Store(tmp_path / "d.db"))  # a restarted daemon: timers come from the store
    assert fresh.advance_chains(NOW + timedelta(minutes=10)) == 0  # step 0 waits 15 minutes
    assert fresh.advance_chains(NOW + timedelta(minutes=16)) == 1
    latest = store.latest_decision("zendesk:7")
    assert latest.route.chain_step == 1 and "step 2/3 (assign tier2" in latest.route.reason
    assert fresh.advance_chains(NOW + timedelta(minutes=17)) == 0  # nothing new to do


def test_an_acknowledgment_in_the_console_stops_the_chain(tmp_path):
    store, _, _ = escalated(tmp_path)
    store.set_acknowledged("zendesk:7", "dana", NOW + timedelta(minutes=5))
    assert Decider(CFG, store).advance_chains(NOW + timedelta(minutes=120)) == 0


def test_an_agent_reply_in_the_helpdesk_acknowledges_the_chain(tmp_path):
    store, t, _ = escalated(tmp_path)
    reply = Message("agent", NOW + timedelta(minutes=3), "We are on it and will delete your data.", True, "agent-42")
    answered = replace(t, messages=(*t.messages, reply), updated_at=NOW + timedelta(minutes=3))
    store.save_page("zendesk", [answered], (), {"cursor": "y"}, now=NOW + timedelta(minutes=4))
    decider = Decider(CFG, store)
    decider.decide("zendesk:7", NOW + timedelta(minutes=4), write_back=True)
    ack = store.ack_state("zendesk:7")
    assert ack.acknowledged_by == "agent-42 (in zendesk)" and ack.acknowledged_at == reply.created_at
    assert decider.advance_chains(NOW + timedelta(minutes=120)) == 0
    assert any(a.kind == "acknowledge" and a.data.get("via") == "helpdesk reply" for a in store.audit_for("zendesk:7"))


def test_shadow_mode_records_what_it_would_write_and_queues_nothing(tmp_path):
    store = Store(tmp_path / "d.db")
    store.save_page("zendesk", [ticket("zendesk:8", body=GDPR)], (), None, now=NOW)
    Decider(CFG, store).decide("zendesk:8", NOW, write_back=False)
    assert store.outbox_depth() == 0
    shadow = [a for a in store.audit_for("zendesk:8") if a.kind == "shadow"]
    assert shadow and shadow[0].data["would_apply"][0]["escalated"] is True


def test_a_rule_with_its_own_chain_advances_on_that_chain(tmp_path):
    """The GDPR ticket's rule runs a faster chain than the default (15 minutes before step 2):
    the chain timer must count its steps on that chain, also after a restart."""
    from deskwatch.core.policy.chains import EscalationChain, EscalationStep
    from deskwatch.core.config import Config

    r = CFG.routing
    fast = EscalationChain("fast", (EscalationStep("notify", 5, level="tier1"), EscalationStep("assign", 10, level="tier2")))
    rules = tuple(replace(rule, chain="fast") if rule.name == "compliance" else rule for rule in r.rules)
    cfg = Config(CFG.file, {**CFG.sections, "routing": replace(r, chains=(*r.chains, fast), rules=rules)}, CFG.raw)

    store = Store(tmp_path / "d.db")
    store.save_page("zendesk", [ticket("zendesk:7", body=GDPR, created=NOW - timedelta(minutes=5))], (), {"c": 1}, now=NOW)
    first = Decider(cfg, store).decide("zendesk:7", NOW, write_back=True)
    assert (first.route.chain, first.route.chain_step) == ("fast", 0)

    restarted = Decider(cfg, Store(tmp_path / "d.db"))
    assert restarted.advance_chains(NOW + timedelta(minutes=4)) == 0
    assert restarted.advance_chains(NOW + timedelta(minutes=6)) == 1  # the default chain would wait until 15
    latest = store.latest_decision("zendesk:7")
    assert (latest.route.chain, latest.route.chain_step) == ("fast", 1) and "chain 'fast' step 2/2" in latest.route.reason
    assert restarted.advance_chains(NOW + timedelta(minutes=7)) == 0
