"""Trigger categories from config: whole-word, negation-aware, hard categories."""

from __future__ import annotations

from deskwatch.core.engine import escalation
from deskwatch.core.model.settings import Section
from deskwatch.core.engine.signals.triggers import triggers

from .test_signals_base import ctx_for, mk


def fired(t, esc=None):
    c = ctx_for(t) if esc is None else ctx_for(t, esc=esc)
    return {s.category: s for s in triggers(t, c)}


def test_gdpr_request_fires_hard_compliance():
    s = fired(mk("Under GDPR I request that you delete all my data. Please confirm the erasure."))
    assert s["compliance"].hard
    assert '"GDPR"' in s["compliance"].evidence and '"delete all my data"' in s["compliance"].evidence
    assert s["compliance"].name == "trigger:compliance"


def test_security_report_is_hard():
    s = fired(mk("After switching workspaces I could see invoices of another company - unauthorized access?"))
    assert s["security"].hard and s["security"].value > 0


def test_negations_do_not_fire():
    t = mk("This is not urgent and there is no legal issue. It isn't a security problem either, "
           "the import simply ran without any outage but the totals are off.")
    assert fired(t) == {}


def test_quoted_and_signature_text_do_not_fire():
    t = mk("Can you resend the invoice?\n\nBest regards,\nSam\n\nOn Mon, Legal <legal@x> wrote:\n> our lawyer will call you about the data breach")
    assert fired(t) == {}


def test_subject_counts():
    t = mk("See subject.", subject="Refund for double charge")
    assert "refund" in fired(t)


def test_more_distinct_phrases_fire_stronger():
    one = fired(mk("Our lawyer will contact you."))["legal"]
    two = fired(mk("Our lawyer will contact you to start legal action."))["legal"]
    assert two.value > one.value


def test_categories_and_hardness_come_from_config():
    esc = escalation.parse(Section({
        "triggers": {
            "security": {"hard": False, "weight": 5},
            "vip": {"phrases": ["board member"], "weight": 12, "hard": True, "team": "exec"},
        }
    }, "escalation"))
    s = fired(mk("I am a board member and found a data breach."), esc)
    assert s["vip"].hard and s["vip"].weight == 12
    assert not s["security"].hard and s["security"].weight == 5
