"""The engine end to end on realistic tickets: score, recommendation, tier, team, confidence."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from deskwatch.core import config

from deskwatch.core.engine import escalation
from deskwatch.core.engine import DecisionContext, decide, decide_many, score_of
from deskwatch.core.engine.history import MemoryHistory
from deskwatch.core.model import SlaStatus, SlaTarget, Organization, decision_to_dict, ticket_from_dict
from deskwatch.core.model.settings import ConfigError, Section

from .conftest import NOW, ROOT
from .test_signals_base import mk

CFG = config.load(None)


@pytest.fixture(scope="module")
def examples():
    tickets = [ticket_from_dict(json.loads(line)) for line in (ROOT / "examples" / "tickets.jsonl").read_text().splitlines()]
    return {d.ticket_id: d for d in decide_many(tickets, CFG, NOW)}


def test_polite_enterprise_customer_with_critical_outage_escalates(examples):
    d = examples["zendesk:5002"]
    assert d.recommendation == "immediate" and d.team == "Engineering"  # routed: outage at tier3
    assert "sentiment" not in {s.name for s in d.signals}
    assert {"impact", "trigger:outage", "account"} <= {s.name for s in d.signals}


def test_angry_customer_with_trivial_issue_does_not_jump_to_immediate(examples):
    d = examples["freshdesk:7003"]
    assert d.recommendation in ("none", "monitor")
    assert d.signals[0].name == "sentiment"
    assert any("tone is upset" in r for r in d.reasons)


def test_hard_triggers_escalate_free_accounts(examples):
    gdpr, security = examples["zendesk:5001"], examples["zendesk:5040"]
    assert gdpr.recommendation == security.recommendation == "immediate"
    assert gdpr.score < CFG.escalation.thresholds.immediate  # the score alone would not
    assert (gdpr.team, security.team) == ("Compliance", "Security")
    # GDPR needs subject-matter experts (tier2), no page; unauthorized access is an incident (tier3).
    assert (gdpr.tier, gdpr.page) == ("tier2", False)
    assert (security.tier, security.page) == ("tier3", True)
    assert gdpr.reasons[0].startswith("Functional escalation to tier2 Compliance: a data-protection or compliance request")
    assert any(r.startswith("Mentions compliance (escalates regardless of score)") for r in gdpr.reasons)


def test_third_contact_refund_churn_loop_renewal(examples):
    assert examples["zendesk:5020"].recommendation == "priority"
    assert examples["zendesk:5020"].signals[0].name == "repeat_contact"
    assert examples["zendesk:5030"].team == "Billing"  # the refund rule routes before severity
    assert examples["zendesk:5030"].recommendation in ("priority", "immediate")
    assert examples["freshdesk:7050"].signals[0].name == "loop"
    assert examples["salesforce:500Qy0001"].signals[0].name == "account"


def test_plain_how_to_with_negations_and_quoted_threat_is_quiet(examples):
    d = examples["zendesk:5050"]
    assert d.recommendation == "none" and d.team == "Support"
    assert not any(s.category for s in d.signals)
    assert d.confidence >= 0.9 and not d.needs_review


def test_same_input_same_output():
    tickets = [ticket_from_dict(json.loads(line)) for line in (ROOT / "examples" / "tickets.jsonl").read_text().splitlines()]
    a = [decision_to_dict(d) for d in decide_many(tickets, CFG, NOW)]
    b = [decision_to_dict(d) for d in decide_many(list(tickets), config.load(None), NOW)]
    assert json.dumps(a) == json.dumps(b)


def test_sla_breach_from_context_adds_to_the_score():
    t = mk("Could you check why the sync stopped?")
    quiet = decide(t, CFG, NOW)
    sla = SlaStatus("business", (SlaTarget("first_response", NOW - timedelta(minutes=5), 110.0, "breached", minutes=60),))
    late = decide(t, CFG, NOW, DecisionContext(sla=sla))
    assert late.score > quiet.score and late.sla == sla
    assert late.signals[0].name == "sla"
    assert late.route is not None and late.team == late.route.team  # routing decides the team


def test_score_saturates():
    assert score_of(0, 50) == 0
    assert 17 < score_of(10, 50) < 19
    assert score_of(10_000, 50) <= 100
    assert score_of(60, 50) < score_of(80, 50)


def test_near_threshold_lowers_confidence_and_can_need_review():
    t = mk("Our invoices page is slow, please look at it.",
           org=Organization(name="Acme", annual_value=100000), created=NOW - timedelta(hours=3))
    score = decide(t, CFG, NOW).score
    near = escalation.parse(Section({"thresholds": {"monitor": 1, "priority": score + 1, "immediate": 99}, "review_below": 0.9}))
    far = escalation.parse(Section({"thresholds": {"monitor": 1, "priority": score + 20, "immediate": 99}, "review_below": 0.9}))
    d = decide(t, near, NOW)
    assert d.confidence < 0.9 and d.needs_review
    assert any(r.startswith("low confidence: score") for r in d.reasons)
    assert decide(t, far, NOW).confidence > d.confidence


def test_weights_and_thresholds_come_from_config():
    t = mk("We were charged twice, I want a refund.")
    normal = decide(t, CFG, NOW)
    heavy = decide(t, escalation.parse(Section({"triggers": {"refund": {"weight": 200}}})), NOW)
    assert heavy.score > normal.score and heavy.recommendation == "immediate" and heavy.team == "Billing"


def test_hard_recommendation_is_configurable():
    t = mk("I think there is a security vulnerability in your login page.")
    esc = escalation.parse(Section({"hard_recommendation": "priority"}))
    assert decide(t, esc, NOW).recommendation == "priority"


def test_history_in_context_drives_repeat_contact():
    a = mk("Invoice CSV export is empty.", id="zendesk:1", subject="CSV export empty", created=NOW - timedelta(days=2))
    b = mk("Invoice CSV export still empty.", id="freshdesk:2", subject="CSV export empty", created=NOW - timedelta(hours=1))
    alone = decide(b, CFG, NOW)
    with_history = decide(b, CFG, NOW, DecisionContext(history=MemoryHistory([a, b])))
    assert "repeat_contact" not in {s.name for s in alone.signals}
    assert "repeat_contact" in {s.name for s in with_history.signals}


def test_bad_escalation_config_names_the_key(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[escalation.weights]\nsentiment = "high"\n')
    with pytest.raises(ConfigError) as e:
        config.load(f)
    assert str(e.value) == f'{f}: escalation.weights.sentiment: expected a number, got "high"'
    f.write_text('[escalation.thresholds]\nmonitor = 80\n')
    with pytest.raises(ConfigError, match="monitor <= priority <= immediate"):
        config.load(f)
    f.write_text('[escalation.triggers.vip]\nweight = 10\n')
    with pytest.raises(ConfigError, match=r"escalation.triggers.vip.phrases: missing"):
        config.load(f)
    f.write_text('[escalation]\nsaturaton = 10\n')
    with pytest.raises(ConfigError, match="did you mean 'saturation'"):
        config.load(f)


def test_defaults_round_trip():
    assert escalation.parse(Section({})) == escalation.parse(Section(escalation.DEFAULTS))


def test_extra_signals_from_plugins_are_scored():
    from deskwatch.core.engine.signals import make_signal

    def vip(ticket, ctx):
        if "board member" in ticket.subject.lower():
            return make_signal("vip", 1.0, 30.0, ("subject names a board member",), "A board member wrote")
        return None

    t = mk("Please call me back.", subject="Board member: access request")
    plain = decide(t, CFG, NOW)
    with_vip = decide(t, CFG, NOW, DecisionContext(extra_signals=(vip,)))
    assert "vip" in {s.name for s in with_vip.signals} and with_vip.score > plain.score
    assert decide_many([t], CFG, NOW, extra_signals=(vip,))[0].score == with_vip.score

    def broken(ticket, ctx):
        return ["not a signal"]

    with pytest.raises(TypeError, match="'broken' returned str"):
        decide(t, CFG, NOW, DecisionContext(extra_signals=(broken,)))


def test_issue_12_examples(examples):
    """The cases issue 12 lists, as shipped in examples/tickets.jsonl."""
    for tid in ("freshdesk:7060", "zendesk:5070", "zendesk:5090"):  # data loss, checkout regression, exposure
        d = examples[tid]
        assert (d.recommendation, d.tier, d.page) == ("immediate", "tier3", True), tid
        assert d.route.on_call and d.page_reason
    assert examples["zendesk:5090"].team == "Security"
    assert examples["freshdesk:7060"].team == examples["zendesk:5070"].team == "Engineering"
    refund = examples["salesforce:500Qy0002"]
    assert refund.recommendation in ("priority", "immediate") and refund.team == "Billing" and not refund.page
    assert refund.management.reasons == ("$24,000 refund exceeds the agent limit of $500",)
    how_to = examples["zendesk:5080"]
    assert how_to.recommendation != "immediate" and how_to.tier in ("tier0", "tier1") and how_to.team == "Support"
    assert not how_to.page and not how_to.route.on_call
    assert how_to.management.reasons[0].startswith("SLA breached: first response")
